/** AWS Lambda entry point of the HTTP API: the same Hono app as the local server, behind
 * API Gateway (HTTP API, payload 2.0). Config is read once per container, at cold start. The web
 * console's files are shipped next to the code (infra/api.ts copies them into `web/`). */
import { join } from "node:path";
import { directoryAssets } from "@gpuaas/web";
import { handle } from "hono/aws-lambda";
import { lambdaCore } from "../linked";
import { createApp } from "./app";

const consoleAssets = directoryAssets(join(process.env.LAMBDA_TASK_ROOT ?? process.cwd(), "web"));

export const handler = handle(createApp(lambdaCore(), { consoleAssets }));
