import { describe, expect, it } from "vitest";
import { CreateClusterInput, UpdateClusterInput } from "../packages/core/src/cluster/cluster";
import { clusterItem, releaseCapacityItem, takeCapacityItem, updateClusterInput } from "../packages/core/src/cluster/store";
import type { Db } from "../packages/core/src/db/client";

const db = { table: "t" } as Db;
const AT = "2026-12-04T00:00:00.000Z";
const NAMES = {
  "#availGpus": "availableGpus",
  "#availCpu": "availableCpu",
  "#availRam": "availableRamGb",
  "#allocGpus": "allocatedGpus",
  "#allocCpu": "allocatedCpu",
  "#allocRam": "allocatedRamGb",
};

describe("takeCapacityItem", () => {
  it("takes from available into allocated, only when all three fit, the pool is not draining and no later change committed", () => {
    expect(takeCapacityItem(db, "C1", { gpus: 2, cpu: 16, ramGb: 64 }, AT)).toEqual({
      Update: {
        TableName: "t",
        Key: { pk: "CLUSTER#C1", sk: "CLUSTER" },
        UpdateExpression:
          "SET #availGpus = #availGpus - :gpus, #availCpu = #availCpu - :cpu, #availRam = #availRam - :ram, " +
          "#allocGpus = #allocGpus + :gpus, #allocCpu = #allocCpu + :cpu, #allocRam = #allocRam + :ram, #changedAt = :at",
        ConditionExpression:
          "#availGpus >= :gpus AND #availCpu >= :cpu AND #availRam >= :ram AND #draining = :false AND (attribute_not_exists(#changedAt) OR #changedAt <= :at)",
        ExpressionAttributeNames: { ...NAMES, "#draining": "draining", "#changedAt": "capacityChangedAt" },
        ExpressionAttributeValues: { ":gpus": 2, ":cpu": 16, ":ram": 64, ":false": false, ":at": AT },
        ReturnValuesOnConditionCheckFailure: "ALL_OLD",
      },
    });
  });
});

describe("releaseCapacityItem", () => {
  it("gives back from allocated into available, only when at least that much is allocated", () => {
    expect(releaseCapacityItem(db, "C1", { gpus: 2, cpu: 16, ramGb: 64 }, AT)).toEqual({
      Update: {
        TableName: "t",
        Key: { pk: "CLUSTER#C1", sk: "CLUSTER" },
        UpdateExpression:
          "SET #availGpus = #availGpus + :gpus, #availCpu = #availCpu + :cpu, #availRam = #availRam + :ram, " +
          "#allocGpus = #allocGpus - :gpus, #allocCpu = #allocCpu - :cpu, #allocRam = #allocRam - :ram, #changedAt = :at",
        ConditionExpression:
          "#allocGpus >= :gpus AND #allocCpu >= :cpu AND #allocRam >= :ram AND (attribute_not_exists(#changedAt) OR #changedAt <= :at)",
        ExpressionAttributeNames: { ...NAMES, "#changedAt": "capacityChangedAt" },
        ExpressionAttributeValues: { ":gpus": 2, ":cpu": 16, ":ram": 64, ":at": AT },
        ReturnValuesOnConditionCheckFailure: "ALL_OLD",
      },
    });
  });
});

describe("updateClusterInput", () => {
  const from = { totalGpus: 8, totalCpu: 64, totalRamGb: 512 };

  it("grows a total and its available by the same delta, on the total read", () => {
    expect(updateClusterInput(db, "C1", { from, totals: { totalGpus: 10 }, at: "now" })).toEqual({
      TableName: "t",
      Key: { pk: "CLUSTER#C1", sk: "CLUSTER" },
      UpdateExpression: "SET updatedAt = :at, #totalGpus = :newGpus, #availGpus = #availGpus + :deltaGpus",
      ConditionExpression: "attribute_exists(pk) AND #totalGpus = :oldGpus",
      ExpressionAttributeNames: { "#totalGpus": "totalGpus", "#availGpus": "availableGpus" },
      ExpressionAttributeValues: { ":at": "now", ":oldGpus": 8, ":newGpus": 10, ":deltaGpus": 2 },
      ReturnValues: "ALL_NEW",
    });
  });

  it("shrinks only when at least the shrink is available (never below allocated), and drains in the same write", () => {
    const input = updateClusterInput(db, "C1", { from, totals: { totalCpu: 60, totalRamGb: 512 }, draining: true, at: "now" });
    expect(input.UpdateExpression).toBe(
      "SET updatedAt = :at, #totalCpu = :newCpu, #availCpu = #availCpu + :deltaCpu, #draining = :draining",
    );
    expect(input.ConditionExpression).toBe("attribute_exists(pk) AND #totalCpu = :oldCpu AND #availCpu >= :shrinkCpu");
    expect(input.ExpressionAttributeValues).toEqual({
      ":at": "now",
      ":oldCpu": 64,
      ":newCpu": 60,
      ":deltaCpu": -4,
      ":shrinkCpu": 4,
      ":draining": true,
    });
    expect(input.ExpressionAttributeNames).toEqual({ "#totalCpu": "totalCpu", "#availCpu": "availableCpu", "#draining": "draining" });
  });

  it("only drains when no total changes", () => {
    const input = updateClusterInput(db, "C1", { from, totals: {}, draining: false, at: "now" });
    expect(input.UpdateExpression).toBe("SET updatedAt = :at, #draining = :draining");
    expect(input.ConditionExpression).toBe("attribute_exists(pk)");
  });
});

describe("clusterItem", () => {
  it("opens with everything available, nothing allocated, not draining, in its visibility and GPU-type partitions", () => {
    const base = {
      id: "C1",
      name: "p",
      provider: "aws",
      region: "us-east-1",
      gpuType: "A100",
      totalGpus: 8,
      totalCpu: 64,
      totalRamGb: 512,
      createdBy: "U",
      createdAt: "t",
      updatedAt: "t",
    } as const;
    expect(clusterItem(base)).toMatchObject({
      pk: "CLUSTER#C1",
      sk: "CLUSTER",
      type: "Cluster",
      gsi1pk: "CLUSTERS#SHARED",
      gsi1sk: "C1",
      gsi3pk: "POOLS#A100",
      gsi3sk: "aws#C1",
      availableGpus: 8,
      availableCpu: 64,
      availableRamGb: 512,
      allocatedGpus: 0,
      allocatedCpu: 0,
      allocatedRamGb: 0,
      draining: false,
    });
    expect(clusterItem({ ...base, orgId: "O1" })).toMatchObject({ gsi1pk: "CLUSTERS#ORG#O1", gsi1sk: "C1", orgId: "O1" });
  });
});

describe("input schemas", () => {
  const valid = { name: "pool", provider: "aws", region: "us-east-1", gpuType: "A100", totalGpus: 8, totalCpu: 64, totalRamGb: 512 };
  it("accepts a pool and refuses odd fields", () => {
    expect(CreateClusterInput.safeParse(valid).success).toBe(true);
    for (const bad of [
      { ...valid, totalGpus: 0 },
      { ...valid, totalGpus: 1.5 },
      { ...valid, totalGpus: 100_001 },
      { ...valid, provider: "ibm" },
      { ...valid, gpuType: "a100" },
      { ...valid, region: "" },
      { ...valid, region: "us east" },
      { ...valid, orgId: "nope" },
      { ...valid, extra: 1 },
    ]) {
      expect(CreateClusterInput.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });
  it("needs at least one change", () => {
    expect(UpdateClusterInput.safeParse({}).success).toBe(false);
    expect(UpdateClusterInput.safeParse({ draining: true }).success).toBe(true);
    expect(UpdateClusterInput.safeParse({ totalGpus: 0 }).success).toBe(false);
    expect(UpdateClusterInput.safeParse({ name: "x" }).success).toBe(false);
  });
});
