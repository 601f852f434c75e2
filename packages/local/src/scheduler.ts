/** The local stand-in for EventBridge Scheduler: runs each task at its next UTC time (and once at
 * start, to catch up on a run missed while the stack was off: every task is idempotent). */
import type { Log } from "@gpuaas/core";

export interface ScheduledTask {
  name: string;
  /** The first time strictly after `after` at which the task is due. */
  nextRun(after: Date): Date;
  run(): Promise<unknown>;
}

export interface Scheduler {
  /** Cancels every timer and waits for runs in progress (bounded by the caller). */
  stop(): Promise<void>;
}

/** setTimeout cannot wait longer than this; a later due time is reached in hops. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** 00:00 UTC on the 1st of the month after `after`'s. */
export const startOfNextMonth = (after: Date) => new Date(Date.UTC(after.getUTCFullYear(), after.getUTCMonth() + 1, 1));

/** The next multiple of `minutes` past the hour (UTC) strictly after `after`: 00:05, 00:10, … */
export const everyMinutes = (minutes: number) => (after: Date) => {
  const step = minutes * 60_000;
  return new Date((Math.floor(after.getTime() / step) + 1) * step);
};

/** The next `hh:mm` UTC strictly after `after`. */
export const dailyAt = (hour: number, minute: number) => (after: Date) => {
  const today = Date.UTC(after.getUTCFullYear(), after.getUTCMonth(), after.getUTCDate(), hour, minute);
  return new Date(today > after.getTime() ? today : today + 86_400_000);
};

export function startScheduler(opts: { tasks: ScheduledTask[]; now: () => Date; log: Log; runAtStart?: boolean }): Scheduler {
  const timers = new Set<NodeJS.Timeout>();
  const running = new Set<Promise<unknown>>();
  let stopped = false;

  const execute = (task: ScheduledTask) => {
    const started = Date.now();
    const run = task
      .run()
      .then(
        (result) => opts.log.info("scheduled task done", { task: task.name, ms: Date.now() - started, result }),
        (error: unknown) => opts.log.error("scheduled task failed", { task: task.name, error }),
      )
      .finally(() => running.delete(run));
    running.add(run);
    return run;
  };

  const arm = (task: ScheduledTask, due: Date) => {
    if (stopped) return;
    const timer = setTimeout(
      () => {
        timers.delete(timer);
        if (stopped) return;
        const now = opts.now();
        if (now < due) return arm(task, due); // a hop of a long wait
        void execute(task).then(() => arm(task, task.nextRun(opts.now())));
      },
      Math.min(MAX_TIMER_MS, Math.max(0, due.getTime() - opts.now().getTime())),
    );
    timer.unref();
    timers.add(timer);
  };

  for (const task of opts.tasks) {
    if (opts.runAtStart) void execute(task).then(() => arm(task, task.nextRun(opts.now())));
    else arm(task, task.nextRun(opts.now()));
  }

  return {
    stop: async () => {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await Promise.allSettled([...running]);
    },
  };
}
