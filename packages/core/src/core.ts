/** The handle every core function takes: storage, configuration, catalog, clock and workflow. */
import { createCatalog, type Catalog } from "./catalog/catalog";
import type { CoreConfig } from "./config/config";
import { createDb, type Db } from "./db/client";
import { noWorkflow, type WorkflowPort } from "./workflow/port";
import { createSfnWorkflow } from "./workflow/sfn";

export interface Core {
  db: Db;
  config: CoreConfig;
  catalog: Catalog;
  now: () => Date;
  /** Runs each job's lifecycle: Step Functions in AWS, the local interpreter on `npm start` and in tests. */
  workflow: WorkflowPort;
}

export function createCore(config: CoreConfig, overrides: Partial<Omit<Core, "config">> = {}): Core {
  return {
    config,
    db:
      overrides.db ??
      createDb({ tableName: config.tableName, region: config.region, endpoint: config.dynamoEndpoint }),
    catalog: overrides.catalog ?? createCatalog(config.catalogOverrides),
    now: overrides.now ?? (() => new Date()),
    workflow:
      overrides.workflow ??
      (config.jobWorkflowArn
        ? createSfnWorkflow({ stateMachineArn: config.jobWorkflowArn, region: config.region })
        : noWorkflow("set JOB_WORKFLOW_ARN, or pass the local engine as `workflow`")),
  };
}
