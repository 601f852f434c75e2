// Formatting shared by the views.
import { html } from "./vendor/lit-html.js";

export const usd = (amount) => (amount === undefined || amount === null ? "—" : `$${Number(amount).toFixed(2)}`);
export const hours = (h) => `${Number(h).toLocaleString(undefined, { maximumFractionDigits: 3 })} GPU-h`;
export const when = (iso) => (iso ? new Date(iso).toLocaleString() : "—");

/** "in 5 min", "3 h ago": a time relative to now. */
export function relative(iso) {
  if (!iso) return "—";
  const seconds = Math.round((new Date(iso).getTime() - Date.now()) / 1000);
  const abs = Math.abs(seconds);
  const [value, unit] =
    abs < 60
      ? [abs, "s"]
      : abs < 3600
        ? [Math.round(abs / 60), "min"]
        : abs < 86400
          ? [Math.round(abs / 3600), "h"]
          : [Math.round(abs / 86400), "d"];
  if (abs < 5) return "now";
  return seconds > 0 ? `in ${value} ${unit}` : `${value} ${unit} ago`;
}

export const statusBadge = (status) => html`<span class="badge ${status}">${status}</span>`;

/** Why an open job waits, in words, with its expected start when the scheduler has one. */
export function waitingText(job) {
  const w = job.waiting;
  if (!w) return job.status === "RUNNING" ? `Running since ${when(job.startedAt)}` : (job.errorMessage ?? job.rejectionReason ?? "");
  if (w.reason === "WAITING_FOR_CAPACITY" && w.expectedStartAt) return `${w.message} (expected start ${relative(w.expectedStartAt)})`;
  return w.message;
}

export const today = () => new Date().toISOString().slice(0, 10);
export const monthStart = () => `${today().slice(0, 8)}01`;
export const daysAgo = (n) => new Date(Date.now() - n * 86400000).toISOString().slice(0, 10);
