/** Every workflow task's step by task key: the local engine wires each Task state to these. */
import type { TaskKey } from "@gpuaas/core/workflow";
import * as applyApprovalPolicy from "./applyApprovalPolicy";
import * as awaitApproval from "./awaitApproval";
import * as awaitStart from "./awaitStart";
import type { TaskStep } from "./core";
import * as drawOutcome from "./drawOutcome";
import * as expireWait from "./expireWait";
import * as planRuntime from "./planRuntime";
import * as recordCompletion from "./recordCompletion";
import * as recordFailure from "./recordFailure";
import * as releaseQuota from "./releaseQuota";

export const TASK_STEPS: Record<TaskKey, TaskStep> = {
  applyApprovalPolicy: applyApprovalPolicy.step,
  awaitApproval: awaitApproval.step,
  awaitStart: awaitStart.step,
  planRuntime: planRuntime.step,
  drawOutcome: drawOutcome.step,
  recordCompletion: recordCompletion.step,
  recordFailure: recordFailure.step,
  expireWait: expireWait.step,
  releaseQuota: releaseQuota.step,
};
