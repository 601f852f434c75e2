/** Linked SST resources → the env record core's loadConfig reads. The one place that knows the
 * names infra links (see sst-env.d.ts); core itself never reads `Resource`. */

import { type Core, createCore, loadConfig } from "@gpuaas/core";
import { Resource } from "sst";

/** The linked resources a Lambda of this app reads (a structural subset of SST's `Resource`). */
export interface LinkedResources {
  Table: { name: string };
  /** The token signing key (a private JWK) and the retired keys' public halves: the API's only. */
  JwtSigningKey?: { value: string };
  JwtRetiredKeys?: { value: string };
  /** The job state machine, linked where a function drives it (API and workflow tasks). */
  JobWorkflow?: { arn: string };
}

/** Env for loadConfig: linked values override whatever the Lambda environment holds. */
export function linkedEnv(resource: LinkedResources, env: Record<string, string | undefined>): Record<string, string | undefined> {
  return {
    ...env,
    TABLE_NAME: resource.Table.name,
    ...(resource.JwtSigningKey ? { JWT_SIGNING_KEY: resource.JwtSigningKey.value } : {}),
    ...(resource.JwtRetiredKeys ? { JWT_RETIRED_KEYS: resource.JwtRetiredKeys.value } : {}),
    ...(resource.JobWorkflow ? { JOB_WORKFLOW_ARN: resource.JobWorkflow.arn } : {}),
  };
}

/** Reads SST's Resource without tripping its proxy on a resource this function is not linked to. */
function linkedResources(): LinkedResources {
  return {
    Table: Resource.Table,
    ...("JwtSigningKey" in Resource ? { JwtSigningKey: Resource.JwtSigningKey } : {}),
    ...("JwtRetiredKeys" in Resource ? { JwtRetiredKeys: Resource.JwtRetiredKeys } : {}),
    ...("JobWorkflow" in Resource ? { JobWorkflow: Resource.JobWorkflow } : {}),
  };
}

let core: Core | undefined;

/** The core of a Lambda, built once per container from its linked resources and environment. */
export function lambdaCore(): Core {
  core ??= createCore(loadConfig(linkedEnv(linkedResources(), process.env)));
  return core;
}

/** The event bus the stream subscriber publishes to (infra/events.ts links it as "Events"). */
export function linkedBusName(): string {
  return Resource.Events.name;
}
