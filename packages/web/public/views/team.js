// Teams: create or join one; an owner sees members, the invite code, the budget and its alerts.

import { describeError, get, post, put } from "../api.js";
import { relative, statusBadge, usd, when } from "../format.js";
import { html } from "../vendor/lit-html.js";
import { busy } from "./auth.js";

let selected;

/** Members, alerts and jobs of an org its caller owns (members see only the org itself). */
async function ownerDetails(org) {
  if (org.role !== "owner") return undefined;
  const [members, alerts, jobs] = await Promise.all([
    get(`/orgs/${org.id}/members`),
    get(`/orgs/${org.id}/alerts`),
    get(`/orgs/${org.id}/jobs?limit=10`),
  ]);
  return { members, alerts, jobs };
}

function ownerPanel(ctx, org, details) {
  return html`<section data-testid="team-owner">
    <h3>Invite code</h3>
    <p>Members join with this code: <code data-testid="invite-code">${org.inviteCode}</code></p>
    <button class="secondary outline" @click=${async () => {
      if (!confirm("Rotate the invite code? The old code stops working.")) return;
      await post(`/orgs/${org.id}/invite-code`).then(
        () => ctx.flash({ notice: "New invite code made." }),
        (e) => ctx.flash({ error: describeError(e) }),
      );
      await ctx.reload();
    }}>Rotate code</button>

    <h3>Budget</h3>
    <form class="inline-form" @submit=${(e) =>
      busy(e, ctx, async ({ monthlyUsd }) => {
        await put(`/orgs/${org.id}/budget`, { monthlyUsd });
        ctx.flash({ notice: `Monthly budget set to ${usd(monthlyUsd)}.` });
        await ctx.reload();
      })}>
      <label>Monthly budget (USD) <input name="monthlyUsd" inputmode="decimal" required .value=${org.monthlyBudgetUsd ?? ""} /></label>
      <button type="submit">Save budget</button>
    </form>
    <p>Spent this month: <strong>${usd(org.monthToDate?.spendUsd)}</strong>${org.monthlyBudgetUsd ? ` of ${usd(org.monthlyBudgetUsd)}` : " (no budget set)"}</p>
    ${
      details.alerts.items.length
        ? html`<ul>${details.alerts.items.map((a) => html`<li>${a.thresholdPercent}% of ${usd(a.budgetUsd)} reached (${usd(a.spendUsd)}) — ${when(a.at)}</li>`)}</ul>`
        : html`<p class="muted">No budget alerts this month.</p>`
    }

    <h3>Members</h3>
    <div class="overflow-auto"><table>
      <thead><tr><th>Name</th><th>Email</th><th>Role</th><th>Joined</th></tr></thead>
      <tbody>${details.members.items.map((m) => html`<tr><td>${m.fullName}</td><td>${m.email}</td><td>${m.role}</td><td>${relative(m.joinedAt)}</td></tr>`)}</tbody>
    </table></div>

    <h3>Recent team jobs</h3>
    ${
      details.jobs.items.length
        ? html`<div class="overflow-auto"><table>
          <thead><tr><th>Job</th><th>Status</th><th>GPUs</th><th>Est. cost</th></tr></thead>
          <tbody>${details.jobs.items.map((j) => html`<tr><td>${j.name}</td><td>${statusBadge(j.status)}</td><td>${j.gpuCount} × ${j.gpuType}</td><td>${usd(j.estimatedCostUsd)}</td></tr>`)}</tbody>
        </table></div>`
        : html`<p class="muted">No team jobs yet.</p>`
    }
  </section>`;
}

export const teamView = {
  title: () => "Team",
  live: true,
  async load() {
    const orgs = await get("/orgs");
    const org = orgs.items.find((o) => o.id === selected) ?? orgs.items[0];
    selected = org?.id;
    return { orgs, org, details: org ? await ownerDetails(org) : undefined };
  },
  render(ctx) {
    const { orgs, org, details } = ctx.data;
    return html`<h1>Team</h1>
      ${
        orgs.items.length > 1
          ? html`<label>Team <select @change=${(e) => {
              selected = e.target.value;
              void ctx.reload();
            }}>${orgs.items.map((o) => html`<option value=${o.id} ?selected=${o.id === org?.id}>${o.name}</option>`)}</select></label>`
          : ""
      }
      ${
        org
          ? html`<article>
            <header><strong>${org.name}</strong> — you are its ${org.role}</header>
            ${details ? ownerPanel(ctx, org, details) : html`<p>Only the team's owner sees its members, invite code and budget.</p>`}
          </article>`
          : html`<p>You are not in a team yet.</p>`
      }
      <div class="grid">
        <article>
          <header>Create a team</header>
          <form @submit=${(e) =>
            busy(e, ctx, async ({ name }) => {
              const created = await post("/orgs", { name });
              selected = created.id;
              ctx.flash({ notice: `Team "${created.name}" created. Share its invite code with your colleagues.` });
              e.target.reset();
              await ctx.reload();
            })}>
            <label>Name <input name="name" required minlength="2" maxlength="64" /></label>
            <button type="submit">Create team</button>
          </form>
        </article>
        <article>
          <header>Join a team</header>
          <form @submit=${(e) =>
            busy(e, ctx, async ({ inviteCode }) => {
              const joined = await post("/orgs/join", { inviteCode });
              selected = joined.id ?? joined.orgId;
              ctx.flash({ notice: "Joined the team." });
              e.target.reset();
              await ctx.reload();
            })}>
            <label>Invite code <input name="inviteCode" required autocomplete="off" /></label>
            <button type="submit">Join</button>
          </form>
        </article>
      </div>`;
  },
};
