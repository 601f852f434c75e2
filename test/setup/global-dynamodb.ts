/** One DynamoDB Local for the whole test run: in-memory, on a random port, killed at teardown
 * (and by the launcher's exit hook and watchdog if the run dies first). */
import type { TestProject } from "vitest/node";
import { type DynamoDbLocal, startDynamoDbLocal } from "../../packages/local/src/dynamodb-local";

let dynamo: DynamoDbLocal | undefined;

export async function setup(project: TestProject) {
  dynamo = await startDynamoDbLocal();
  project.provide("dynamoEndpoint", dynamo.endpoint);
}

export async function teardown() {
  await dynamo?.stop();
}

declare module "vitest" {
  export interface ProvidedContext {
    dynamoEndpoint: string;
  }
}
