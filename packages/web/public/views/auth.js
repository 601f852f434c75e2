// Sign in and register.

import { describeError, get, post, session } from "../api.js";
import { html } from "../vendor/lit-html.js";

const fields = (form) => Object.fromEntries(new FormData(form));

/** Signs in with `email` and `password`: keeps the token and who it belongs to for this tab. */
async function signIn(email, password) {
  const { accessToken, expiresIn } = await post("/auth/login", { email, password });
  session.set({ token: accessToken, expiresAt: Date.now() + expiresIn * 1000 });
  const user = await get("/me");
  session.set({ token: accessToken, expiresAt: Date.now() + expiresIn * 1000, user });
}

/** Disables the form's button while `work` runs; a failure shows in words above the form. */
async function busy(event, ctx, work) {
  event.preventDefault();
  const button = event.target.querySelector("button[type=submit]");
  button.setAttribute("aria-busy", "true");
  button.disabled = true;
  try {
    await work(fields(event.target));
  } catch (error) {
    ctx.flash({ error: describeError(error) });
  } finally {
    button.removeAttribute("aria-busy");
    button.disabled = false;
  }
}

export const loginView = {
  title: () => "Sign in",
  render: (ctx) => html`<article>
    <h1>Sign in</h1>
    <form @submit=${(e) =>
      busy(e, ctx, async ({ email, password }) => {
        await signIn(email, password);
        ctx.flash({ notice: `Welcome back, ${session.get().user.fullName}.` }, { next: true });
        ctx.navigate("/");
      })}>
      <label>Email <input name="email" type="email" autocomplete="username" required /></label>
      <label>Password <input name="password" type="password" autocomplete="current-password" required /></label>
      <button type="submit">Sign in</button>
    </form>
    <p>No account yet? <a href="#/register">Register</a>.</p>
  </article>`,
};

export const registerView = {
  title: () => "Register",
  render: (ctx) => html`<article>
    <h1>Create an account</h1>
    <form @submit=${(e) =>
      busy(e, ctx, async ({ fullName, email, password }) => {
        await post("/auth/register", { fullName, email, password });
        await signIn(email, password);
        ctx.flash({ notice: `Welcome, ${fullName}. Your monthly GPU-hour quota is ready.` }, { next: true });
        ctx.navigate("/");
      })}>
      <label>Full name <input name="fullName" autocomplete="name" required /></label>
      <label>Email <input name="email" type="email" autocomplete="email" required /></label>
      <label>Password <input name="password" type="password" autocomplete="new-password" required />
        <small>At least 10 characters.</small></label>
      <button type="submit">Register</button>
    </form>
    <p>Already registered? <a href="#/login">Sign in</a>.</p>
  </article>`,
};

export { busy };
