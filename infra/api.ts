/** The HTTP API: API Gateway (HTTP API) sends every route to the one Hono Lambda. */

import { LAMBDA_COPY_FILES } from "@gpuaas/web";
import { API_HANDLER } from "../packages/functions/src/handlers";
import { API_THROTTLING, RESERVED_CONCURRENCY } from "./defaults";
import { jwtRetiredKeys, jwtSigningKey } from "./secrets";
import { table, tableAccess } from "./storage";
import { jobWorkflow } from "./workflow";

export const api = new sst.aws.ApiGatewayV2("Api", {
  // Bearer tokens, no cookies: any origin may call; preflights are answered by API Gateway.
  cors: {
    allowOrigins: ["*"],
    allowMethods: ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
    allowHeaders: ["authorization", "content-type", "idempotency-key", "x-request-id"],
    exposeHeaders: ["retry-after", "x-request-id"],
    maxAge: "1 day",
  },
  transform: {
    // Throttling before any Lambda runs: beyond it API Gateway answers 429 itself.
    stage: (args) => {
      args.defaultRouteSettings = {
        ...args.defaultRouteSettings,
        throttlingRateLimit: API_THROTTLING.rateLimit,
        throttlingBurstLimit: API_THROTTLING.burstLimit,
      };
    },
  },
});

api.route("$default", {
  handler: API_HANDLER,
  link: [table, jwtSigningKey, jwtRetiredKeys, jobWorkflow],
  permissions: [tableAccess("Api")],
  // The web console (GET /, /console/*): its files and libraries, read from `web/` by lambda.ts.
  copyFiles: LAMBDA_COPY_FILES,
  // API Gateway gives up after 30 s; fail inside that.
  timeout: "25 seconds",
  concurrency: { reserved: RESERVED_CONCURRENCY.api },
});
