// Submit a job: the GPU catalog, a live cost estimate, my quota; one Idempotency-Key per form.

import { get, post } from "../api.js";
import { hours, usd } from "../format.js";
import { html } from "../vendor/lit-html.js";
import { busy } from "./auth.js";

/** The form's current choices (kept across live refreshes and re-renders). */
let form;
const blank = () => ({ gpuType: "", provider: "", gpuCount: 1, estimatedHours: 1, key: crypto.randomUUID() });

/** The estimate the server will make: the chosen provider's price, or the cheapest for the GPU type. */
export function estimate(catalog, { gpuType, provider, gpuCount, estimatedHours }) {
  const offers = catalog.items.filter((o) => o.gpuType === gpuType && (!provider || o.provider === provider));
  if (!offers.length) return undefined;
  const cheapest = offers.reduce((a, b) => (Number(b.pricePerGpuHourUsd) < Number(a.pricePerGpuHourUsd) ? b : a));
  const count = Number(gpuCount);
  const h = Number(estimatedHours);
  if (!(count > 0 && h > 0)) return { offer: cheapest };
  return { offer: cheapest, costUsd: Number(cheapest.pricePerGpuHourUsd) * count * h };
}

function payload(fields) {
  const body = {
    name: fields.name,
    image: fields.image,
    command: fields.command,
    gpuType: fields.gpuType,
    gpuCount: Number(fields.gpuCount),
    estimatedHours: Number(fields.estimatedHours),
    priority: fields.priority,
  };
  if (fields.provider) body.provider = fields.provider;
  if (fields.orgId) body.orgId = fields.orgId;
  if (fields.dataLocation?.trim()) body.dataLocation = fields.dataLocation.trim();
  if (fields.sensitive) body.sensitive = true;
  const deps = (fields.dependsOn ?? "").split(/[\s,]+/).filter(Boolean);
  if (deps.length) body.dependsOn = deps;
  return body;
}

export const submitView = {
  title: () => "Submit a job",
  reset() {
    form = blank();
  },
  async load() {
    const [catalog, me, orgs] = await Promise.all([get("/catalog/gpus"), get("/me"), get("/orgs")]);
    form ??= blank();
    form.gpuType ||= catalog.items[0]?.gpuType ?? "";
    return { catalog, me, orgs };
  },
  render(ctx) {
    const { catalog, me, orgs } = ctx.data;
    const gpuTypes = [...new Set(catalog.items.map((o) => o.gpuType))];
    const providers = catalog.items.filter((o) => o.gpuType === form.gpuType);
    const est = estimate(catalog, form);
    const change = (e) => {
      form[e.target.name] = e.target.value;
      if (e.target.name === "gpuType") form.provider = "";
      ctx.paint();
    };
    return html`<h1>Submit a job</h1>
      <form @input=${change} @submit=${(e) =>
        busy(e, ctx, async (fields) => {
          const job = await post("/jobs", payload(fields), { "idempotency-key": form.key });
          form = blank();
          ctx.flash(
            { notice: `Job "${job.name}" submitted: ${job.status === "PENDING" ? "waiting for approval" : job.status}.` },
            { next: true },
          );
          ctx.navigate(`/jobs/${job.id}`);
        })}>
        <div class="grid">
          <label>Name <input name="name" required maxlength="128" placeholder="resnet-finetune" /></label>
          <label>Container image <input name="image" required placeholder="pytorch/pytorch:2.4" /></label>
        </div>
        <label>Command <input name="command" required placeholder="python train.py --epochs 10" /></label>
        <div class="grid">
          <label>GPU type
            <select name="gpuType" required>
              ${gpuTypes.map((t) => html`<option value=${t} ?selected=${form.gpuType === t}>${t}</option>`)}
            </select>
          </label>
          <label>Provider
            <select name="provider">
              <option value="" ?selected=${!form.provider}>Cheapest available</option>
              ${providers.map((o) => html`<option value=${o.provider} ?selected=${form.provider === o.provider}>${o.provider} — $${o.pricePerGpuHourUsd}/GPU-h</option>`)}
            </select>
          </label>
        </div>
        <div class="grid">
          <label>GPUs <input name="gpuCount" type="number" min="1" max="64" step="1" .value=${String(form.gpuCount)} required /></label>
          <label>Estimated hours <input name="estimatedHours" type="number" min="0.001" step="any" .value=${String(form.estimatedHours)} required /></label>
          <label>Priority
            <select name="priority">
              <option value="low">low</option>
              <option value="medium" selected>medium</option>
              <option value="high">high</option>
            </select>
          </label>
        </div>
        <div class="grid">
          <label>Bill to
            <select name="orgId">
              <option value="">Me</option>
              ${orgs.items.map((o) => html`<option value=${o.id}>${o.name} (team)</option>`)}
            </select>
          </label>
          <label>Depends on (job ids, optional) <input name="dependsOn" placeholder="01J…, 01J…" /></label>
        </div>
        <label>Data location (optional) <input name="dataLocation" placeholder="s3://bucket/dataset" /></label>
        <label><input type="checkbox" name="sensitive" role="switch" /> Sensitive data (an admin must approve it)</label>
        <article aria-live="polite" data-testid="estimate">
          ${
            est?.costUsd !== undefined
              ? html`Estimated cost <strong>${usd(est.costUsd)}</strong> — ${est.offer.provider} at $${est.offer.pricePerGpuHourUsd}/GPU-hour;
                reserves <strong>${hours(Number(form.gpuCount) * Number(form.estimatedHours))}</strong> of your
                ${hours(me.quota?.remainingHours ?? 0)} left this month.`
              : html`Enter the GPUs and hours to see the estimate.`
          }
        </article>
        <button type="submit">Submit job</button>
      </form>`;
  },
};
