/** The workflow port on the local ASL interpreter (aws-local-stepfunctions): the very definition
 * that is deployed to AWS, with each Task state wired to the step its Lambda runs. Step Functions'
 * callback pattern is emulated by a token registry, and jobs left open by a restart are resumed. */
import "./polyfills";
import { randomUUID } from "node:crypto";
import type { Core } from "@gpuaas/core";
import {
  buildJobWorkflowDefinition,
  type ExecutionStatus,
  type ExecutionView,
  type JobWorkflowInput,
  LAMBDA_INVOKE,
  LAMBDA_INVOKE_WAIT_FOR_TOKEN,
  openJobIds,
  TASK_KEYS,
  TASK_TOKEN_FIELD,
  type TaskKey,
  TaskNotWaitingError,
  type TaskResult,
  type WorkflowPort,
} from "@gpuaas/core/workflow";
import { TASK_STEPS, type TaskStep } from "@gpuaas/functions";
import { StateMachine } from "aws-local-stepfunctions";
import { inLane } from "./dynamodb-lanes";

type RunHandle = ReturnType<StateMachine["run"]>;
type TaskHandlers = NonNullable<NonNullable<NonNullable<Parameters<StateMachine["run"]>[1]>["overrides"]>["taskResourceLocalHandlers"]>;
type EventLog = RunHandle["eventLogs"] extends AsyncGenerator<infer E> ? E : never;

/** Stand-in Lambda ARNs; the local engine never calls them, it runs the steps in-process. */
export const localFunctionArn = (key: TaskKey) => `arn:aws:lambda:us-east-1:000000000000:function:gpuaas-local-${key}`;

/** One history entry of an execution, from the interpreter's event log. */
export interface LocalExecutionEvent {
  type: EventLog["type"];
  state?: string;
  at: string;
  error?: string;
}

export interface LocalExecutionView extends ExecutionView {
  history: LocalExecutionEvent[];
}

interface Execution {
  jobId: string;
  status: ExecutionStatus;
  startedAt: string;
  stoppedAt?: string;
  currentState?: string;
  history: LocalExecutionEvent[];
  abort: () => void;
  /** Settles when the execution has ended, however it ended. */
  done: Promise<void>;
}

interface WaitingTask {
  jobId: string;
  resolve: (output: TaskResult) => void;
  reject: (error: Error) => void;
}

/** A callback task failed by sendTaskFailure: its `name` is what the state's Catch matches. */
class TaskFailure extends Error {
  constructor(name: string, cause: string) {
    super(cause);
    this.name = name;
  }
}

export interface LocalWorkflowEngine extends WorkflowPort {
  describe(jobId: string): Promise<LocalExecutionView | undefined>;
  /** Starts an execution for every PENDING / APPROVED / RUNNING job (found on the status index). */
  resumeOpenJobs(): Promise<number>;
  /** Settles when the job's current execution ends (immediately when it has none running). */
  settled(jobId: string): Promise<void>;
  /** Whether the job's execution is parked on a task token (waiting for an admin). */
  isWaiting(jobId: string): boolean;
  /** Aborts every execution, as a process exit would. */
  shutdown(): Promise<void>;
}

export interface LocalWorkflowOptions {
  /** The Core the steps run with (a thunk: the Core is built with this engine as its workflow). */
  core: () => Core;
  steps?: Record<TaskKey, TaskStep>;
  /** Milliseconds between retries of a failed step, instead of the definition's backoff. */
  retryIntervalMs?: number;
  /** Finished executions kept for describe(). */
  keepFinished?: number;
}

export function createLocalWorkflowEngine(options: LocalWorkflowOptions): LocalWorkflowEngine {
  const steps = options.steps ?? TASK_STEPS;
  const keepFinished = options.keepFinished ?? 1000;
  const definition = buildJobWorkflowDefinition(
    Object.fromEntries(TASK_KEYS.map((key) => [key, localFunctionArn(key)])) as Record<TaskKey, string>,
  );
  const machine = new StateMachine(definition as ConstructorParameters<typeof StateMachine>[0]);
  const keyOfArn = new Map(TASK_KEYS.map((key) => [localFunctionArn(key), key]));

  // Every Task state must run a local step: none may fall through to a real Lambda call.
  const taskStates = Object.entries(definition.States).flatMap(([name, state]) => {
    if (state.Type !== "Task") return [];
    const s = state as { Resource: string; Parameters: { FunctionName: string } };
    const key = keyOfArn.get(s.Parameters.FunctionName);
    if (!key || ![LAMBDA_INVOKE, LAMBDA_INVOKE_WAIT_FOR_TOKEN].includes(s.Resource)) {
      throw new Error(`Task state ${name} has no local step`);
    }
    return [{ name, key, callback: s.Resource === LAMBDA_INVOKE_WAIT_FOR_TOKEN }];
  });

  const running = new Map<string, Execution>();
  const finished = new Map<string, Execution>();
  const waiting = new Map<string, WaitingTask>();

  const retire = (execution: Execution) => {
    if (running.get(execution.jobId) === execution) running.delete(execution.jobId);
    finished.delete(execution.jobId);
    finished.set(execution.jobId, execution);
    while (finished.size > keepFinished) finished.delete(finished.keys().next().value!);
    // A callback left waiting belongs to an execution that no longer exists.
    for (const [token, task] of waiting) {
      if (task.jobId === execution.jobId) {
        waiting.delete(token);
        task.reject(new TaskNotWaitingError("Execution ended"));
      }
    }
  };

  /** The Task overrides of one execution: lambda:invoke's `{Payload}` shape, tokens for callbacks. */
  function overridesFor(jobId: string): TaskHandlers {
    // The steps of one execution log with its job id, as each Lambda invocation does in AWS.
    let jobCore: Core | undefined;
    const coreOf = () => (jobCore ??= { ...options.core(), log: options.core().log.child({ jobId }) });
    return Object.fromEntries(
      taskStates.map(({ name, key, callback }) => {
        const step = steps[key];
        // A step runs in the system lane (dynamodb-lanes.ts) even when an API request resumed it.
        const run = (input: unknown) => inLane("system", () => runStep(input));
        const runStep = async (input: unknown) => {
          const payload = (input as { Payload: Record<string, unknown> }).Payload;
          if (!callback) return { Payload: await step(payload, coreOf()) };
          // Step Functions would mint the token; here the engine does, and keeps its resolvers.
          const token = `local:${jobId}:${name}:${randomUUID()}`;
          const answer = Promise.withResolvers<TaskResult>();
          // An execution that was stopped no longer awaits its callback; the rejection retire()
          // gives it then must not surface as an unhandled rejection (a running one still sees it).
          answer.promise.catch(() => undefined);
          waiting.set(token, { jobId, resolve: answer.resolve, reject: answer.reject });
          try {
            await step({ ...payload, [TASK_TOKEN_FIELD]: token }, coreOf());
          } catch (error) {
            waiting.delete(token);
            throw error;
          }
          return answer.promise;
        };
        return [name, run as TaskHandlers[string]];
      }),
    );
  }

  async function follow(execution: Execution, logs: AsyncGenerator<EventLog>) {
    for await (const event of logs) {
      const state = "state" in event ? event.state.name : undefined;
      const error = "Error" in event ? `${event.Error}: ${String(event.Cause)}` : undefined;
      execution.history.push({ type: event.type, state, at: new Date(event.timestamp).toISOString(), ...(error ? { error } : {}) });
      if (event.type === "StateEntered") execution.currentState = state;
      // A failed step is retried or caught by the definition; a failed execution left its job to ReleaseQuota.
      if (event.type === "StateFailed") options.core().log.warn("workflow step failed", { jobId: execution.jobId, state, failure: error });
      if (event.type === "ExecutionFailed") options.core().log.error("job workflow failed", { jobId: execution.jobId, failure: error });
    }
  }

  function start(jobId: string) {
    const input: JobWorkflowInput = { jobId };
    const run = machine.run(input as unknown as Parameters<StateMachine["run"]>[0], {
      overrides: {
        taskResourceLocalHandlers: overridesFor(jobId),
        ...(options.retryIntervalMs === undefined
          ? {}
          : { retryIntervalOverrides: Object.fromEntries(taskStates.map((t) => [t.name, options.retryIntervalMs!])) }),
      },
      noThrowOnAbort: true,
      // $$.Task.Token must resolve; the callback overrides replace it with a token of their own.
      context: { Execution: { Id: `local:${jobId}`, Name: jobId }, Task: { Token: "minted-by-the-local-engine" } },
    });
    const execution: Execution = {
      jobId,
      status: "RUNNING",
      startedAt: new Date().toISOString(),
      history: [],
      abort: run.abort,
      done: Promise.resolve(),
    };
    void follow(execution, run.eventLogs as AsyncGenerator<EventLog>).catch(() => undefined);
    execution.done = run.result
      .then(
        (result) => {
          execution.status = result === null ? "ABORTED" : "SUCCEEDED";
        },
        (error: Error) => {
          execution.status = error.name === "ExecutionTimeoutError" ? "TIMED_OUT" : "FAILED";
        },
      )
      .finally(() => {
        execution.stoppedAt = new Date().toISOString();
        retire(execution);
      });
    running.set(jobId, execution);
  }

  const view = (e: Execution): LocalExecutionView => ({
    name: e.jobId,
    status: e.status,
    startedAt: e.startedAt,
    stoppedAt: e.stoppedAt,
    currentState: e.status === "RUNNING" ? e.currentState : undefined,
    history: [...e.history],
  });

  function settleTask(token: string): WaitingTask {
    const task = waiting.get(token);
    if (!task) throw new TaskNotWaitingError("The task token is no longer waiting");
    waiting.delete(token);
    return task;
  }

  // Executions asked for but not begun yet: startJob returns at once and the execution begins on
  // the next turn of the event loop, after the request that asked for it has answered (a submission
  // does not wait for the interpreter and the first step's reads). Nothing is lost if the process
  // dies in between: the job is already stored, and resumeOpenJobs at the next start (and the
  // reconciler every 5 minutes) starts an execution for every open job that has none.
  const starting = new Map<string, Promise<void>>();
  // shutdown() drops the starts asked for before it, as a process exit would.
  let generation = 0;

  const engine: LocalWorkflowEngine = {
    async startJob(jobId) {
      // Like Step Functions with the same name and input: a job's running execution is the one.
      if (running.has(jobId) || starting.has(jobId)) return;
      const asked = generation;
      starting.set(
        jobId,
        new Promise<void>((resolve) =>
          setImmediate(() => {
            starting.delete(jobId);
            try {
              if (asked === generation && !running.has(jobId)) start(jobId);
            } catch (error) {
              // As a failed StartExecution: logged; the reconciler starts the open job again.
              options.core().log.error("job workflow did not start", { jobId, error: error as Error });
            } finally {
              resolve();
            }
          }),
        ),
      );
    },
    async sendTaskSuccess(taskToken, output) {
      settleTask(taskToken).resolve(output);
    },
    async sendTaskFailure(taskToken, error, cause) {
      settleTask(taskToken).reject(new TaskFailure(error, cause));
    },
    async stop(jobId) {
      await starting.get(jobId);
      const execution = running.get(jobId);
      if (!execution) return;
      execution.abort();
      await execution.done;
    },
    async describe(jobId) {
      await starting.get(jobId);
      const execution = running.get(jobId) ?? finished.get(jobId);
      return execution && view(execution);
    },
    async resumeOpenJobs() {
      let started = 0;
      for await (const jobId of openJobIds(options.core().db)) {
        if (!running.has(jobId)) {
          start(jobId);
          started++;
        }
      }
      return started;
    },
    async settled(jobId) {
      await starting.get(jobId);
      await running.get(jobId)?.done;
    },
    isWaiting(jobId) {
      return [...waiting.values()].some((task) => task.jobId === jobId);
    },
    async shutdown() {
      generation++;
      await Promise.all(starting.values());
      const all = [...running.values()];
      for (const execution of all) execution.abort();
      await Promise.all(all.map((e) => e.done));
    },
  };
  return engine;
}
