/** Linked SST resources → core config, without SST: the pure mapping the Lambdas use. */

import { loadConfig } from "@gpuaas/core";
import { describe, expect, it } from "vitest";
import { type LinkedResources, linkedEnv } from "../packages/functions/src/linked";

const linked: LinkedResources = {
  Table: { name: "gpuaas-prod-TableTable-abc" },
  JwtSecret: { value: "a-linked-secret-that-is-at-least-32-chars" },
};
const arn = "arn:aws:states:eu-west-1:123456789012:stateMachine:gpuaas-prod-JobWorkflow";

describe("linkedEnv", () => {
  it("maps the Table and JwtSecret links to the env names loadConfig reads", () => {
    const config = loadConfig(linkedEnv(linked, { AWS_REGION: "eu-west-1" }));
    expect(config).toMatchObject({
      tableName: "gpuaas-prod-TableTable-abc",
      region: "eu-west-1",
      jwt: { secret: "a-linked-secret-that-is-at-least-32-chars" },
    });
    expect(config.dynamoEndpoint).toBeUndefined();
  });

  it("lets linked values win over a stale environment and keeps the rest of it", () => {
    const env = linkedEnv(linked, { TABLE_NAME: "other", JWT_SECRET: "x", SIMULATION_FAILURE_RATE: "0.5" });
    expect(env).toMatchObject({
      TABLE_NAME: "gpuaas-prod-TableTable-abc",
      JWT_SECRET: linked.JwtSecret.value,
      SIMULATION_FAILURE_RATE: "0.5",
    });
  });

  it("passes the state machine ARN only where JobWorkflow is linked", () => {
    expect(linkedEnv(linked, {})).not.toHaveProperty("JOB_WORKFLOW_ARN");
    expect(linkedEnv({ ...linked, JobWorkflow: { arn } }, {})).toMatchObject({ JOB_WORKFLOW_ARN: arn });
  });

  it("fails loudly (at cold start) when the linked secret is too short", () => {
    expect(() => loadConfig(linkedEnv({ ...linked, JwtSecret: { value: "short" } }, {}))).toThrow(/JWT_SECRET/);
  });
});
