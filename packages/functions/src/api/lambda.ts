/** AWS Lambda entry point of the HTTP API: the same Hono app as the local server, behind
 * API Gateway (HTTP API, payload 2.0). Config is read once per container, at cold start. */
import { handle } from "hono/aws-lambda";
import { lambdaCore } from "../linked";
import { createApp } from "./app";

export const handler = handle(createApp(lambdaCore()));
