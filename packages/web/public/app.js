// The console's shell: hash routes, the navigation bar, rendering and live refresh.

import { describeError, session, whenUnauthorized } from "./api.js";
import { html, render } from "./vendor/lit-html.js";
import { adminView } from "./views/admin.js";
import { loginView, registerView } from "./views/auth.js";
import { dashboardView } from "./views/dashboard.js";
import { jobView } from "./views/job.js";
import { submitView } from "./views/submit.js";
import { teamView } from "./views/team.js";

/** How often a live page re-reads what it shows while it is visible. */
const REFRESH_MS = 2000;

const ROUTES = [
  { pattern: /^\/login$/, view: loginView, public: true },
  { pattern: /^\/register$/, view: registerView, public: true },
  { pattern: /^\/$/, view: dashboardView },
  { pattern: /^\/submit$/, view: submitView },
  { pattern: /^\/jobs\/([0-9A-Za-z]+)$/, view: jobView },
  { pattern: /^\/team$/, view: teamView },
  { pattern: /^\/admin(?:\/([a-z]+))?$/, view: adminView, admin: true },
];

const state = { route: null, params: [], data: undefined, error: "", notice: "" };
let timer;
let generation = 0;

/** Messages for the page a navigation is about to show. */
const pending = { notice: "", error: "" };

const path = () => location.hash.replace(/^#/, "") || "/";

/** Shows `to`; messages flashed with `{ next: true }` appear there. */
export function navigate(to) {
  if (path() === to) arrive();
  else location.hash = to;
}

function arrive() {
  state.notice = pending.notice;
  state.error = pending.error;
  pending.notice = pending.error = "";
  void show();
}

/** A notice (green) or error (red) above this page, or with `next` above the page navigated to next. */
export function flash({ notice = "", error = "" }, { next = false } = {}) {
  if (next) return Object.assign(pending, { notice, error });
  state.notice = notice;
  state.error = error;
  paint();
}

whenUnauthorized(() => {
  session.clear();
  flash({ error: "Your session has expired or your account was disabled. Please sign in again." }, { next: true });
  navigate("/login");
});

function nav() {
  const user = session.get()?.user;
  const link = (to, label) =>
    html`<li><a href="#${to}" class=${path() === to || (to !== "/" && path().startsWith(to)) ? "active" : ""}>${label}</a></li>`;
  return html`<nav>
    <ul>
      <li><strong>GPUaaS</strong></li>
    </ul>
    <ul>
      ${
        user
          ? html`${link("/", "Dashboard")}${link("/submit", "Submit")}${link("/team", "Team")}
            ${user.role === "admin" ? link("/admin", "Admin") : ""}
            <li><button class="secondary outline" @click=${signOut} title="Signed in as ${user.email}">Sign out</button></li>`
          : html`${link("/login", "Sign in")}${link("/register", "Register")}`
      }
    </ul>
  </nav>`;
}

function signOut() {
  session.clear();
  flash({ notice: "Signed out." }, { next: true });
  navigate("/login");
}

/** Everything the current view needs to render and act: its data, route params, and re-render/reload. */
function context() {
  return { params: state.params, data: state.data, reload, paint, navigate, flash };
}

let painted = false;

function paint() {
  render(nav(), document.getElementById("nav"));
  const main = document.getElementById("main");
  if (!painted) main.replaceChildren(); // the page's "Loading…" placeholder
  painted = true;
  const messages = html`${state.error ? html`<p role="alert" class="error" data-testid="error">${state.error}</p>` : ""}
  ${state.notice ? html`<p role="status" class="notice">${state.notice}</p>` : ""}`;
  if (!state.route) return render(html`${messages}<h1>Not found</h1><p><a href="#/">Back to the dashboard</a></p>`, main);
  const body =
    state.data === undefined && state.route.view.load ? html`<p aria-busy="true">Loading…</p>` : state.route.view.render(context());
  render(html`${messages}${body}`, main);
}

/** Re-reads the current view's data; a failure shows in words and keeps what was shown. */
async function reload() {
  const view = state.route?.view;
  if (!view?.load) return paint();
  const mine = generation;
  try {
    const data = await view.load(context());
    if (mine !== generation) return;
    state.data = data;
    if (state.error.startsWith("The server could not be reached")) state.error = "";
  } catch (error) {
    if (mine !== generation) return;
    state.error = describeError(error);
  }
  paint();
}

async function show() {
  generation++;
  clearTimeout(timer);
  const p = path();
  const route = ROUTES.find((r) => r.pattern.test(p));
  const user = session.get()?.user;
  if (route && !route.public && !user) return navigate("/login");
  if (route?.public && user) return navigate("/");
  if (route?.admin && user?.role !== "admin") {
    flash({ error: "The admin panel is for admins only." }, { next: true });
    return navigate("/");
  }
  const changed = state.route !== route || String(state.params) !== String(route ? route.pattern.exec(p).slice(1) : []);
  state.route = route ?? null;
  state.params = route ? route.pattern.exec(p).slice(1) : [];
  if (changed) {
    state.data = undefined;
    state.route?.view.reset?.();
  }
  paint();
  document.title = `${route?.view.title?.(context()) ?? "Not found"} · GPUaaS`;
  document.getElementById("main").focus({ preventScroll: true });
  await reload();
  if (route?.view.live) schedule();
}

/** Live pages re-read their data every REFRESH_MS while the tab is visible. */
function schedule() {
  const mine = generation;
  timer = setTimeout(async () => {
    if (mine !== generation) return;
    if (document.visibilityState === "visible") await reload();
    if (mine === generation) schedule();
  }, REFRESH_MS);
}

window.addEventListener("hashchange", arrive);
void show();
