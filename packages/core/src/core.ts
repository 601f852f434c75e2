/** The handle every core function takes: storage, configuration, catalog and clock. */
import { createCatalog, type Catalog } from "./catalog/catalog";
import type { CoreConfig } from "./config/config";
import { createDb, type Db } from "./db/client";

export interface Core {
  db: Db;
  config: CoreConfig;
  catalog: Catalog;
  now: () => Date;
}

export function createCore(config: CoreConfig, overrides: Partial<Omit<Core, "config">> = {}): Core {
  return {
    config,
    db:
      overrides.db ??
      createDb({ tableName: config.tableName, region: config.region, endpoint: config.dynamoEndpoint }),
    catalog: overrides.catalog ?? createCatalog(config.catalogOverrides),
    now: overrides.now ?? (() => new Date()),
  };
}
