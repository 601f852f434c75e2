// The dashboard: my quota, this month's spend, my jobs with why each waits; updates live.

import { describeError, get, post, query } from "../api.js";
import { hours, monthStart, relative, statusBadge, today, usd, waitingText } from "../format.js";
import { html } from "../vendor/lit-html.js";

const STATUSES = ["", "PENDING", "APPROVED", "RUNNING", "COMPLETED", "FAILED", "REJECTED", "CANCELLED"];
const OPEN = new Set(["PENDING", "APPROVED", "RUNNING"]);

const filter = { status: "", pages: 1 };

/** My jobs, as many pages as asked for (newest first). */
async function loadJobs() {
  const items = [];
  let cursor;
  let more = false;
  for (let page = 0; page < filter.pages; page++) {
    const res = await get(`/jobs${query({ status: filter.status, limit: 20, cursor })}`);
    items.push(...res.items);
    cursor = res.nextCursor;
    more = Boolean(cursor);
    if (!cursor) break;
  }
  return { items, more };
}

async function cancel(ctx, job) {
  if (!confirm(`Cancel job "${job.name}"? Its reserved GPU-hours are released.`)) return;
  try {
    await post(`/jobs/${job.id}/cancel`, {});
    ctx.flash({ notice: `Job "${job.name}" cancelled.` });
  } catch (error) {
    ctx.flash({ error: describeError(error) });
  }
  await ctx.reload();
}

export function quotaCard(quota) {
  if (!quota) return "";
  const spent = quota.usedHours + quota.reservedHours;
  return html`<article>
    <header>GPU-hour quota, ${quota.period}</header>
    <progress value=${Math.min(spent, quota.limitHours)} max=${quota.limitHours || 1} aria-label="Quota used and reserved"></progress>
    <p><span class="big" data-testid="quota-remaining">${hours(quota.remainingHours)}</span> left of ${hours(quota.limitHours)}</p>
    <p class="muted">${hours(quota.usedHours)} used · ${hours(quota.reservedHours)} reserved by open jobs</p>
  </article>`;
}

export const dashboardView = {
  title: () => "Dashboard",
  live: true,
  reset() {
    filter.pages = 1;
  },
  async load() {
    const [me, jobs, spend] = await Promise.all([
      get("/me"),
      loadJobs(),
      get(`/costs${query({ from: monthStart(), to: today(), groupBy: "gpuType" })}`),
    ]);
    return { me, jobs, spend };
  },
  render(ctx) {
    const { me, jobs, spend } = ctx.data;
    return html`<h1>Hello, ${me.fullName}</h1>
      <section class="stats">
        ${quotaCard(me.quota)}
        <article>
          <header>Spend this month</header>
          <p class="big" data-testid="month-spend">${usd(spend.total.costUsd)}</p>
          <p class="muted">${hours(spend.total.gpuHours)} in ${spend.total.jobCount} job(s) finished since ${monthStart()}</p>
        </article>
        <article>
          <header>Open jobs</header>
          <p class="big">${jobs.items.filter((j) => OPEN.has(j.status)).length}</p>
          <p><a href="#/submit" role="button">Submit a job</a></p>
        </article>
      </section>
      <section>
        <div class="inline-form">
          <h2>My jobs</h2>
          <label>Status
            <select aria-label="Filter by status" @change=${(e) => {
              filter.status = e.target.value;
              filter.pages = 1;
              void ctx.reload();
            }}>
              ${STATUSES.map((s) => html`<option value=${s} ?selected=${filter.status === s}>${s || "All"}</option>`)}
            </select>
          </label>
        </div>
        ${
          jobs.items.length === 0
            ? html`<p>No jobs ${filter.status ? `with status ${filter.status}` : "yet"}. <a href="#/submit">Submit one</a>.</p>`
            : html`<div class="overflow-auto">
              <table data-testid="my-jobs">
                <thead><tr><th>Job</th><th>GPUs</th><th>Status</th><th>Why / details</th><th>Est. cost</th><th>Submitted</th><th></th></tr></thead>
                <tbody>
                  ${jobs.items.map(
                    (job) => html`<tr data-job-id=${job.id}>
                    <td><a href="#/jobs/${job.id}">${job.name}</a></td>
                    <td>${job.gpuCount} × ${job.gpuType}</td>
                    <td>${statusBadge(job.status)}</td>
                    <td>${waitingText(job)}</td>
                    <td>${usd(job.estimatedCostUsd)}</td>
                    <td title=${job.createdAt}>${relative(job.createdAt)}</td>
                    <td>${OPEN.has(job.status) ? html`<button class="secondary outline" @click=${() => cancel(ctx, job)}>Cancel</button>` : ""}</td>
                  </tr>`,
                  )}
                </tbody>
              </table>
            </div>`
        }
        ${
          jobs.more
            ? html`<button class="secondary" @click=${() => {
                filter.pages++;
                void ctx.reload();
              }}>Show more</button>`
            : ""
        }
      </section>`;
  },
};
