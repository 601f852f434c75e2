/** Linked SST resources → core config, without SST: the pure mapping the Lambdas use. */

import { generateSigningKey, loadConfig, publicHalf } from "@gpuaas/core";
import { describe, expect, it } from "vitest";
import { type LinkedResources, linkedEnv } from "../packages/functions/src/linked";

const key = generateSigningKey("2026-12");
const linked: LinkedResources = { Table: { name: "gpuaas-prod-TableTable-abc" } };
const api: LinkedResources = { ...linked, JwtSigningKey: { value: JSON.stringify(key) }, JwtRetiredKeys: { value: "[]" } };
const arn = "arn:aws:states:eu-west-1:123456789012:stateMachine:gpuaas-prod-JobWorkflow";

describe("linkedEnv", () => {
  it("maps the Table link, and for the API the signing key, to the env names loadConfig reads", () => {
    const config = loadConfig(linkedEnv(api, { AWS_REGION: "eu-west-1" }));
    expect(config).toMatchObject({
      tableName: "gpuaas-prod-TableTable-abc",
      region: "eu-west-1",
      jwt: { signingKey: key, publicKeys: [publicHalf(key)] },
    });
    expect(config.dynamoEndpoint).toBeUndefined();
  });

  it("gives a function not linked to the key none: it issues no tokens and accepts none", () => {
    const config = loadConfig(linkedEnv(linked, {}));
    expect(config.jwt.signingKey).toBeUndefined();
    expect(config.jwt.publicKeys).toEqual([]);
  });

  it("verifies with the retired keys too, after the current one", () => {
    const old = generateSigningKey("2026-11");
    const config = loadConfig(linkedEnv({ ...api, JwtRetiredKeys: { value: JSON.stringify([publicHalf(old)]) } }, {}));
    expect(config.jwt.publicKeys.map((k) => k.kid)).toEqual(["2026-12", "2026-11"]);
  });

  it("lets linked values win over a stale environment and keeps the rest of it", () => {
    const env = linkedEnv(api, { TABLE_NAME: "other", JWT_SIGNING_KEY: "x", SIMULATION_FAILURE_RATE: "0.5" });
    expect(env).toMatchObject({
      TABLE_NAME: "gpuaas-prod-TableTable-abc",
      JWT_SIGNING_KEY: JSON.stringify(key),
      SIMULATION_FAILURE_RATE: "0.5",
    });
  });

  it("passes the state machine ARN only where JobWorkflow is linked", () => {
    expect(linkedEnv(linked, {})).not.toHaveProperty("JOB_WORKFLOW_ARN");
    expect(linkedEnv({ ...linked, JobWorkflow: { arn } }, {})).toMatchObject({ JOB_WORKFLOW_ARN: arn });
  });

  it("fails loudly (at cold start) on a malformed key, a public key where the private one belongs, or two keys of one kid", () => {
    expect(() => loadConfig(linkedEnv({ ...api, JwtSigningKey: { value: "short" } }, {}))).toThrow(/JWT_SIGNING_KEY/);
    expect(() => loadConfig(linkedEnv({ ...api, JwtSigningKey: { value: JSON.stringify(publicHalf(key)) } }, {}))).toThrow(
      /JWT_SIGNING_KEY/,
    );
    const sameKid = JSON.stringify([publicHalf(generateSigningKey("2026-12"))]);
    expect(() => loadConfig(linkedEnv({ ...api, JwtRetiredKeys: { value: sameKid } }, {}))).toThrow(/JWT_RETIRED_KEYS/);
  });
});
