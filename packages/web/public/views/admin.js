// The admin panel: approval queue, running jobs, users and quotas, capacity pools, costs chart.

import { describeError, get, patch, post, put, query } from "../api.js";
import { daysAgo, hours, relative, statusBadge, today, usd, waitingText } from "../format.js";
import { html } from "../vendor/lit-html.js";
import { busy } from "./auth.js";
import { costChart } from "./chart.js";

const TABS = [
  ["approvals", "Approval queue"],
  ["running", "Running jobs"],
  ["users", "Users & quotas"],
  ["clusters", "Clusters"],
  ["costs", "Costs"],
];

const costRange = { from: daysAgo(29), to: today(), groupBy: "provider" };

/** Runs an admin action on a job and says how it went. */
async function act(ctx, job, action, body) {
  try {
    const updated = await post(`/admin/jobs/${job.id}/${action}`, body);
    ctx.flash({ notice: `"${job.name}" is now ${updated.status}.` });
  } catch (error) {
    ctx.flash({ error: describeError(error) });
  }
  await ctx.reload();
}

/** An action that needs words (a reason, an error message): asks inline, then acts. */
function wordsAction(ctx, job, action, field, label) {
  return html`<form class="row-actions" @submit=${(e) => {
    e.preventDefault();
    const value = new FormData(e.target).get(field);
    void act(ctx, job, action, { [field]: value });
  }}>
    <input name=${field} required placeholder=${label} aria-label="${label} for ${job.name}" />
    <button type="submit" class="secondary">${action[0].toUpperCase() + action.slice(1)}</button>
  </form>`;
}

const jobCells = (job) => html`<td><a href="#/jobs/${job.id}">${job.name}</a><br /><span class="muted">${job.image}</span></td>
  <td>${job.gpuCount} × ${job.gpuType}${job.provider ? html`<br /><span class="muted">${job.provider}</span>` : ""}</td>
  <td>${job.estimatedHours} h · ${usd(job.estimatedCostUsd)}</td>
  <td><code>${job.ownerId}</code>${job.sensitive ? html`<br /><strong>sensitive</strong>` : ""}</td>`;

function jobTable(_ctx, jobs, actions, testid) {
  if (!jobs.items.length) return html`<p class="muted">None right now.</p>`;
  return html`<div class="overflow-auto"><table data-testid=${testid}>
    <thead><tr><th>Job</th><th>GPUs</th><th>Estimate</th><th>Owner</th><th>Status</th><th>Actions</th></tr></thead>
    <tbody>${jobs.items.map(
      (job) => html`<tr data-job-id=${job.id}>${jobCells(job)}
      <td>${statusBadge(job.status)}<br /><span class="muted">${waitingText(job)}</span></td>
      <td>${actions(job)}</td></tr>`,
    )}</tbody>
  </table></div>`;
}

const LOADERS = {
  approvals: async () => ({ pending: await get("/admin/jobs?status=PENDING&limit=50") }),
  running: async () => {
    const [running, approved] = await Promise.all([
      get("/admin/jobs?status=RUNNING&limit=50"),
      get("/admin/jobs?status=APPROVED&limit=50"),
    ]);
    return { running, approved };
  },
  users: async () => ({ users: await get("/admin/users?limit=100") }),
  clusters: async () => {
    const clusters = await get("/clusters");
    const queues = await Promise.all(clusters.items.map((c) => get(`/clusters/${c.id}/queue`)));
    return { clusters, queues };
  },
  costs: async () => {
    const [grouped, daily] = await Promise.all([get(`/costs${query(costRange)}`), get(`/costs${query({ ...costRange, groupBy: "day" })}`)]);
    return { grouped, daily };
  },
};

/** The per-day report with the days that cost nothing filled in, so the line spans the whole range. */
function everyDay(report) {
  const byDay = new Map(report.items.map((i) => [i.day, i]));
  const items = [];
  for (let t = Date.parse(`${report.from}T00:00:00Z`); t <= Date.parse(`${report.to}T00:00:00Z`); t += 86400000) {
    const day = new Date(t).toISOString().slice(0, 10);
    items.push(byDay.get(day) ?? { day, costUsd: "0.00", gpuHours: 0, jobCount: 0 });
  }
  return { ...report, items };
}

const RENDERERS = {
  approvals: (ctx, { pending }) => html`<h2>Approval queue</h2>
    ${jobTable(
      ctx,
      pending,
      (job) => html`<div class="row-actions">
      <button @click=${() => act(ctx, job, "approve")}>Approve</button>
    </div>${wordsAction(ctx, job, "reject", "reason", "Reason")}`,
      "approval-queue",
    )}`,
  running: (ctx, { running, approved }) => html`<h2>Running jobs</h2>
    ${jobTable(
      ctx,
      running,
      (job) => html`<div class="row-actions">
      <button @click=${() => act(ctx, job, "complete")}>Complete</button>
    </div>${wordsAction(ctx, job, "fail", "errorMessage", "Error message")}`,
      "running-jobs",
    )}
    <h2>Approved, waiting to start</h2>
    ${jobTable(ctx, approved, (job) => html`<button @click=${() => act(ctx, job, "start")}>Start</button>`, "approved-jobs")}`,
  users: (ctx, { users }) => html`<h2>Users & quotas</h2>
    <div class="overflow-auto"><table>
      <thead><tr><th>User</th><th>Role</th><th>Quota this month</th><th>Monthly limit</th></tr></thead>
      <tbody>${users.items.map(
        (u) => html`<tr>
        <td>${u.fullName}<br /><span class="muted">${u.email}</span></td>
        <td>${u.role}${u.active ? "" : " (disabled)"}</td>
        <td>${
          u.quota
            ? html`<progress value=${u.quota.usedHours + u.quota.reservedHours} max=${u.quota.limitHours || 1}></progress>
          ${hours(u.quota.usedHours)} used, ${hours(u.quota.reservedHours)} reserved, ${hours(u.quota.remainingHours)} left`
            : "—"
        }</td>
        <td><form class="row-actions" @submit=${(e) =>
          busy(e, ctx, async ({ limitHours }) => {
            await put(`/admin/users/${u.id}/quota`, { limitHours: Number(limitHours) });
            ctx.flash({ notice: `${u.fullName}'s monthly limit is now ${hours(limitHours)}.` });
            await ctx.reload();
          })}>
          <input name="limitHours" type="number" min="0" step="any" aria-label="Monthly GPU-hour limit of ${u.email}" .value=${String(u.monthlyLimitHours)} />
          <button type="submit" class="secondary">Set</button>
        </form></td>
      </tr>`,
      )}</tbody>
    </table></div>`,
  clusters: (ctx, { clusters, queues }) => html`<h2>Clusters</h2>
    ${clusters.items.length === 0 ? html`<p class="muted">No capacity pools: approved jobs wait for an admin to start them.</p>` : ""}
    ${clusters.items.map(
      (c, i) => html`<article>
      <header><strong>${c.name}</strong> — ${c.gpuType} on ${c.provider} (${c.region})${c.draining ? html` · <strong>draining</strong>` : ""}</header>
      <progress value=${c.totalGpus - c.availableGpus} max=${c.totalGpus || 1} aria-label="GPUs in use"></progress>
      <p><strong>${c.availableGpus}</strong> of ${c.totalGpus} GPUs free · ${c.availableCpu}/${c.totalCpu} CPU · ${c.availableRamGb}/${c.totalRamGb} GB RAM</p>
      <details><summary>Queue (${queues[i].items.length})</summary>
        ${
          queues[i].items.length
            ? html`<ol>${queues[i].items.map((q) => html`<li>${q.job ? html`<a href="#/jobs/${q.job.id}">${q.job.name}</a>` : "a job"} — ${q.gpus} GPU(s), ${q.expectedStartAt ? html`expected to start ${relative(q.expectedStartAt)}` : "no start expected (draining)"}</li>`)}</ol>`
            : html`<p class="muted">Nothing waiting.</p>`
        }
      </details>
      <button class="secondary outline" @click=${async () => {
        try {
          await patch(`/clusters/${c.id}`, { draining: !c.draining });
        } catch (error) {
          ctx.flash({ error: describeError(error) });
        }
        await ctx.reload();
      }}>${c.draining ? "Stop draining" : "Drain"}</button>
    </article>`,
    )}
    <details><summary>Add a pool</summary>
      <form @submit=${(e) =>
        busy(e, ctx, async (f) => {
          const body = {
            name: f.name,
            gpuType: f.gpuType,
            provider: f.provider,
            region: f.region,
            totalGpus: Number(f.totalGpus),
            totalCpu: Number(f.totalCpu),
            totalRamGb: Number(f.totalRamGb),
          };
          const created = await post("/admin/clusters", body);
          ctx.flash({ notice: `Pool "${created.name}" created.` });
          await ctx.reload();
        })}>
        <div class="grid"><label>Name <input name="name" required /></label><label>GPU type <input name="gpuType" required placeholder="A100" /></label></div>
        <div class="grid"><label>Provider <input name="provider" required placeholder="onprem" /></label><label>Region <input name="region" required placeholder="eu-west-1" /></label></div>
        <div class="grid">
          <label>GPUs <input name="totalGpus" type="number" min="1" required /></label>
          <label>CPUs <input name="totalCpu" type="number" min="1" required /></label>
          <label>RAM (GB) <input name="totalRamGb" type="number" min="1" required /></label>
        </div>
        <button type="submit">Create pool</button>
      </form>
    </details>`,
  costs: (ctx, { grouped, daily }) => html`<h2>Costs</h2>
    <form class="inline-form" @submit=${(e) => {
      e.preventDefault();
      Object.assign(costRange, Object.fromEntries(new FormData(e.target)));
      void ctx.reload();
    }}>
      <label>From <input type="date" name="from" .value=${costRange.from} required /></label>
      <label>To <input type="date" name="to" .value=${costRange.to} required /></label>
      <label>Group by <select name="groupBy">
        ${[
          ["provider", "Provider"],
          ["gpuType", "GPU type"],
          ["org", "Team"],
        ].map(([v, l]) => html`<option value=${v} ?selected=${costRange.groupBy === v}>${l}</option>`)}
      </select></label>
      <button type="submit">Show</button>
    </form>
    <p>Total <strong data-testid="cost-total">${usd(grouped.total.costUsd)}</strong> · ${hours(grouped.total.gpuHours)} · ${grouped.total.jobCount} job(s)</p>
    <div class="grid">
      <div class="chart-box">${costChart("by-group", grouped)}</div>
      <div class="chart-box">${costChart("by-day", everyDay(daily))}</div>
    </div>
    <div class="overflow-auto"><table>
      <thead><tr><th>${grouped.groupBy}</th><th>Cost</th><th>GPU-hours</th><th>Jobs</th></tr></thead>
      <tbody>${grouped.items.map((i) => html`<tr><td>${i[grouped.groupBy] ?? "(none)"}</td><td>${usd(i.costUsd)}</td><td>${hours(i.gpuHours)}</td><td>${i.jobCount}</td></tr>`)}</tbody>
    </table></div>`,
};

export const adminView = {
  title: () => "Admin",
  live: true,
  async load(ctx) {
    const tab = ctx.params[0] ?? "approvals";
    if (!LOADERS[tab]) return { tab: undefined };
    return { tab, ...(await LOADERS[tab]()) };
  },
  render(ctx) {
    const { tab } = ctx.data;
    return html`<h1>Admin</h1>
      <nav class="tabs" aria-label="Admin sections">
        ${TABS.map(([id, label]) => html`<a href="#/admin/${id}" aria-current=${tab === id ? "page" : "false"} class=${tab === id ? "active" : ""}>${label}</a>`)}
      </nav>
      ${tab ? RENDERERS[tab](ctx, ctx.data) : html`<p>No such section.</p>`}`;
  },
};
