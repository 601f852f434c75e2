/** What a committed change calls for (reactions.ts), from stream records as DynamoDB writes them:
 * the before and after images (NEW_AND_OLD_IMAGES), including DynamoDB Local's way of writing an
 * empty map, which must neither throw nor hold the shard. */
import { marshall } from "@aws-sdk/util-dynamodb";
import type { Core } from "@gpuaas/core";
import { type ChangeRecord, toDomainEvent } from "@gpuaas/core/events";
import { describe, expect, it } from "vitest";
import { recordImage } from "../packages/core/src/event/event";
import { run } from "../packages/core/src/reactions/react";
import { reactionsTo } from "../packages/core/src/reactions/reactions";
import { ExecutionEndedError } from "../packages/core/src/workflow/port";
import { recordingLog } from "./support/log";

const record = (eventName: ChangeRecord["eventName"], before?: object, after?: object): ChangeRecord => ({
  eventName,
  dynamodb: {
    ...(before ? { OldImage: marshall(before, { removeUndefinedValues: true }) } : {}),
    ...(after ? { NewImage: marshall(after, { removeUndefinedValues: true }) } : {}),
    SequenceNumber: "1",
  },
});
const job = (status: string, extra: object = {}) => ({ pk: "JOB#j1", sk: "JOB", type: "Job", id: "j1", gpuType: "V100", status, ...extra });

describe("reactionsTo", () => {
  it("starts a new job's execution", () => {
    expect(reactionsTo(record("INSERT", undefined, job("PENDING")))).toEqual([{ kind: "startExecution", jobId: "j1" }]);
    // Auto-approved at submission: without dependencies its WAIT# entry calls for admission; with them, it is promoted if they are done.
    expect(reactionsTo(record("INSERT", undefined, job("APPROVED")))).toEqual([{ kind: "startExecution", jobId: "j1" }]);
    expect(reactionsTo(record("INSERT", undefined, job("APPROVED", { dependsOn: ["j0"] })))).toEqual([
      { kind: "startExecution", jobId: "j1" },
      { kind: "promoteIfReady", jobId: "j1" },
    ]);
  });

  it("answers the token the execution was parked on; an approval with dependencies promotes the job if they are done", () => {
    const r = reactionsTo(record("MODIFY", job("PENDING", { taskToken: "t1" }), job("APPROVED", { dependsOn: ["j0"] })));
    expect(r).toEqual([
      { kind: "answerTask", jobId: "j1", token: "t1", status: "APPROVED" },
      { kind: "promoteIfReady", jobId: "j1" },
    ]);
  });

  it("stops the run of a job an admin ended; a COMPLETED job promotes its dependents, a failed one cancels them", () => {
    expect(reactionsTo(record("MODIFY", job("RUNNING"), job("COMPLETED", { updatedBy: "admin-1" })))).toEqual([
      { kind: "stopExecution", jobId: "j1", status: "COMPLETED" },
      { kind: "promoteDependents", jobId: "j1" },
    ]);
    expect(reactionsTo(record("MODIFY", job("RUNNING"), job("FAILED", { updatedBy: "workflow" })))).toEqual([
      { kind: "cancelDependents", jobId: "j1", status: "FAILED" },
    ]);
  });

  it("admits when a waiting job leaves the queue other than by starting, when a job joins it, and when a pool grows", () => {
    expect(reactionsTo(record("MODIFY", job("APPROVED", { taskToken: "t" }), job("CANCELLED")))).toContainEqual({
      kind: "admit",
      gpuType: "V100",
      alsoPools: [],
    });
    expect(reactionsTo(record("MODIFY", job("APPROVED", { taskToken: "t" }), job("RUNNING")))).not.toContainEqual(
      expect.objectContaining({ kind: "admit" }),
    );
    const entry = { pk: "QUEUE#V100", sk: "WAIT#1#j1", type: "QueueEntry", gpuType: "V100" };
    expect(reactionsTo(record("INSERT", undefined, entry))).toEqual([{ kind: "admit", gpuType: "V100", alsoPools: [] }]);
    expect(reactionsTo(record("REMOVE", entry, undefined))).toEqual([]);
    const pool = {
      pk: "CLUSTER#c1",
      sk: "CLUSTER",
      type: "Cluster",
      id: "c1",
      gpuType: "V100",
      availableGpus: 1,
      availableCpu: 8,
      availableRamGb: 64,
    };
    expect(reactionsTo(record("INSERT", undefined, pool))).toEqual([{ kind: "admit", gpuType: "V100", alsoPools: ["c1"] }]);
    expect(reactionsTo(record("MODIFY", pool, { ...pool, availableGpus: 4 }))).toEqual([{ kind: "admit", gpuType: "V100", alsoPools: [] }]);
    expect(reactionsTo(record("MODIFY", pool, { ...pool, availableGpus: 0 }))).toEqual([]);
  });

  it("records budget alerts when an org's spend or budget changes, not otherwise", () => {
    const spend = {
      pk: "ORG#o1",
      sk: "SPEND#2026-12",
      type: "OrgSpend",
      orgId: "o1",
      period: "2026-12",
      committedMicros: 1,
      budgetMicros: 10,
    };
    expect(reactionsTo(record("MODIFY", spend, { ...spend, committedMicros: 5 }))).toEqual([
      { kind: "budgetAlerts", orgId: "o1", period: "2026-12" },
    ]);
    expect(reactionsTo(record("MODIFY", spend, { ...spend }))).toEqual([]);
  });

  it("skips other items unread, even one with an empty map as DynamoDB Local's stream writes it ({} for { M: {} })", () => {
    const plan = record("INSERT", undefined, { pk: "QUEUE#V100", sk: "PLAN", type: "QueuePlan", atMs: 1 });
    plan.dynamodb!.NewImage!.places = {};
    expect(reactionsTo(plan)).toEqual([]);
    expect(toDomainEvent(plan)).toBeUndefined();
    expect(recordImage(plan.dynamodb!.NewImage)).toEqual({ pk: "QUEUE#V100", sk: "PLAN", type: "QueuePlan", atMs: 1, places: {} });
  });
});

describe("run", () => {
  const coreWith = (startJob: () => Promise<void>) => {
    const { log, lines } = recordingLog();
    return { core: { workflow: { startJob }, log } as unknown as Core, lines };
  };

  it("takes an execution that already ended as done (a record delivered again), so the batch is not held", async () => {
    const { core, lines } = coreWith(async () => {
      throw new ExecutionEndedError("Execution j1 already ended (SUCCEEDED) while its job is open");
    });
    await expect(run(core, { kind: "startExecution", jobId: "j1" })).resolves.toBeUndefined();
    expect(lines).toEqual([expect.objectContaining({ level: "warn", fields: expect.objectContaining({ jobId: "j1" }) })]);
  });

  it("fails on any other error starting it, so the record is delivered again", async () => {
    const { core } = coreWith(async () => {
      throw new Error("Step Functions is unavailable");
    });
    await expect(run(core, { kind: "startExecution", jobId: "j1" })).rejects.toThrow("unavailable");
  });
});
