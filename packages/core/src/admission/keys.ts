/** Every key of the admission queue index (per GPU type: WAIT#, HOLD#, RUN# entries and the PLAN) is
 * built here; admission/queue.ts says what each entry holds. docs/data-model.md ("Admission") is the map. */
import type { JobItem, Priority } from "../job/job";

const RANK: Record<Priority, number> = { high: 0, medium: 1, low: 2 };

export const queueKeys = {
  partition: (gpuType: string) => ({ pk: `QUEUE#${gpuType}` }),
  waiting: (gpuType: string, job: Pick<JobItem, "id" | "priority">) => ({
    pk: `QUEUE#${gpuType}`,
    sk: `WAIT#${RANK[job.priority]}#${job.id}`,
  }),
  held: (gpuType: string, jobId: string) => ({ pk: `QUEUE#${gpuType}`, sk: `HOLD#${jobId}` }),
  running: (gpuType: string, jobId: string) => ({ pk: `QUEUE#${gpuType}`, sk: `RUN#${jobId}` }),
  plan: (gpuType: string) => ({ pk: `QUEUE#${gpuType}`, sk: "PLAN" }),
  waitingPrefix: "WAIT#",
  heldPrefix: "HOLD#",
  runningPrefix: "RUN#",
};
