/** The handle every core function takes: storage, configuration, catalog, clock and workflow. */
import { type Catalog, createCatalog } from "./catalog/catalog";
import type { CoreConfig } from "./config/config";
import { createDb, type Db } from "./db/client";
import { createLogger, type Log } from "./log";
import { noWorkflow, type WorkflowPort } from "./workflow/port";
import { createSfnWorkflow } from "./workflow/sfn";

export interface Core {
  db: Db;
  config: CoreConfig;
  catalog: Catalog;
  now: () => Date;
  /** Runs each job's lifecycle: Step Functions in AWS, the local interpreter on `npm start` and in tests. */
  workflow: WorkflowPort;
  /** Structured logger; adapters hand core a child carrying the request or job id. */
  log: Log;
}

export function createCore(config: CoreConfig, overrides: Partial<Omit<Core, "config">> = {}): Core {
  return {
    config,
    db:
      overrides.db ??
      createDb({ tableName: config.tableName, region: config.region, endpoint: config.dynamoEndpoint, outbound: config.outbound }),
    catalog: overrides.catalog ?? createCatalog(config.catalogOverrides),
    now: overrides.now ?? (() => new Date()),
    workflow:
      overrides.workflow ??
      (config.jobWorkflowArn
        ? createSfnWorkflow({ stateMachineArn: config.jobWorkflowArn, region: config.region, outbound: config.outbound })
        : noWorkflow("set JOB_WORKFLOW_ARN, or pass the local engine as `workflow`")),
    log: overrides.log ?? createLogger(config.logLevel),
  };
}
