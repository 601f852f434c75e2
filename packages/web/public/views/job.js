// One job: its details, why it waits and when it should start, its event history; updates live.

import { describeError, get, post } from "../api.js";
import { hours, relative, statusBadge, usd, waitingText, when } from "../format.js";
import { html } from "../vendor/lit-html.js";

const OPEN = new Set(["PENDING", "APPROVED", "RUNNING"]);

export const jobView = {
  title: () => "Job",
  live: true,
  async load(ctx) {
    const [id] = ctx.params;
    const [job, events] = await Promise.all([get(`/jobs/${id}`), get(`/jobs/${id}/events`)]);
    return { job, events };
  },
  render(ctx) {
    const { job, events } = ctx.data;
    const expected = job.waiting?.expectedStartAt;
    const cancel = async () => {
      if (!confirm(`Cancel job "${job.name}"?`)) return;
      try {
        await post(`/jobs/${job.id}/cancel`, {});
        ctx.flash({ notice: "Job cancelled." });
      } catch (error) {
        ctx.flash({ error: describeError(error) });
      }
      await ctx.reload();
    };
    const row = (label, value) => html`<tr><th scope="row">${label}</th><td>${value}</td></tr>`;
    return html`<p><a href="#/">← Dashboard</a></p>
      <h1>${job.name} <span data-testid="job-status">${statusBadge(job.status)}</span></h1>
      <p data-testid="job-waiting">${waitingText(job)}</p>
      ${expected ? html`<p><strong>Expected start:</strong> ${when(expected)} (${relative(expected)})</p>` : ""}
      ${OPEN.has(job.status) ? html`<button class="secondary outline" @click=${cancel}>Cancel job</button>` : ""}
      <div class="grid">
        <div class="overflow-auto">
          <table>
            <tbody>
              ${row("Id", html`<code>${job.id}</code>`)}
              ${row("Image", html`<code>${job.image}</code>`)}
              ${row("Command", html`<code>${job.command}</code>`)}
              ${row("GPUs", `${job.gpuCount} × ${job.gpuType}${job.provider ? ` on ${job.provider}` : ""}`)}
              ${row("Estimate", `${job.estimatedHours} h × ${job.gpuCount} GPU = ${hours(job.reservedGpuHours ?? job.estimatedHours * job.gpuCount)} · ${usd(job.estimatedCostUsd)}`)}
              ${job.actualCostUsd !== undefined ? row("Actual cost", usd(job.actualCostUsd)) : ""}
              ${row("Priority", job.priority)}
              ${job.orgId ? row("Team", html`<code>${job.orgId}</code>`) : ""}
              ${job.clusterId ? row("Pool", html`<code>${job.clusterId}</code>`) : ""}
              ${
                job.dependsOn.length
                  ? row(
                      "Depends on",
                      job.dependsOn.map((d) => html`<a href="#/jobs/${d}"><code>${d}</code></a> `),
                    )
                  : ""
              }
              ${row("Submitted", when(job.createdAt))}
              ${job.startedAt ? row("Started", when(job.startedAt)) : ""}
              ${job.finishedAt ? row("Finished", when(job.finishedAt)) : ""}
            </tbody>
          </table>
        </div>
        <section>
          <h2>History</h2>
          <ol data-testid="job-events">
            ${events.items.map(
              (e) => html`<li>${statusBadge(e.status)} <span title=${e.at}>${when(e.at)}</span><br />
              <span class="muted">${e.reason ?? ""} — by ${e.actor}</span></li>`,
            )}
          </ol>
        </section>
      </div>`;
  },
};
