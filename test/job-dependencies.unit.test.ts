import { describe, expect, it } from "vitest";
import { dependenciesCompleted } from "../packages/core/src/job/dependencies";
import type { JobItem, JobStatus } from "../packages/core/src/job/job";
import { waitingFor } from "../packages/core/src/job/views";

const job = (status: JobStatus, dependsOn: string[] = []) => ({ id: "J", status, dependsOn }) as unknown as JobItem;

describe("waitingFor", () => {
  it("says what an open job that is not running waits for, and nothing otherwise", () => {
    expect(waitingFor(job("PENDING", ["A"]), new Map())).toEqual({
      reason: "AWAITING_APPROVAL",
      message: "Waiting for an admin to approve it",
    });
    expect(waitingFor(job("APPROVED"), new Map())).toEqual({
      reason: "AWAITING_START",
      message: "Ready; waiting for an admin to start it",
    });
    expect(waitingFor(job("APPROVED", ["A"]), new Map([["A", "COMPLETED"]]))?.reason).toBe("AWAITING_START");
    expect(
      waitingFor(
        job("APPROVED", ["A", "B", "C"]),
        new Map<string, JobStatus>([
          ["A", "COMPLETED"],
          ["B", "RUNNING"],
        ]),
      ),
    ).toEqual({
      reason: "WAITING_FOR_DEPENDENCIES",
      dependencies: [
        { id: "A", status: "COMPLETED" },
        { id: "B", status: "RUNNING" },
        { id: "C", status: "MISSING" },
      ],
      message: "Waiting for 2 of 3 dependencies: B is RUNNING, C is MISSING",
    });
    expect(waitingFor(job("APPROVED", ["A"]), new Map([["A", "PENDING"]]))?.message).toBe("Waiting for 1 of 1 dependency: A is PENDING");
    for (const status of ["RUNNING", "COMPLETED", "FAILED", "CANCELLED", "REJECTED"] as const) {
      expect(waitingFor(job(status, ["A"]), new Map())).toBeUndefined();
    }
  });
});

describe("dependenciesCompleted", () => {
  const db = { table: "t" } as never;
  it("asks every dependency to be COMPLETED and names the ones that were not", () => {
    const { items, error } = dependenciesCompleted({ db } as never)(job("APPROVED", ["A", "B"]));
    expect(items).toEqual([
      {
        ConditionCheck: {
          TableName: "t",
          Key: { pk: "JOB#A", sk: "JOB" },
          ConditionExpression: "#status = :completed",
          ExpressionAttributeNames: { "#status": "status" },
          ExpressionAttributeValues: { ":completed": "COMPLETED" },
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        },
      },
      expect.objectContaining({ ConditionCheck: expect.objectContaining({ Key: { pk: "JOB#B", sk: "JOB" } }) }),
    ]);
    const e = error([undefined, { code: "ConditionalCheckFailed", item: { status: "RUNNING" } }]);
    expect(e).toMatchObject({ code: "DEPENDENCIES_NOT_MET", dependencies: [{ id: "B", status: "RUNNING" }] });
    expect(e.message).toContain("B is RUNNING");
  });
});
