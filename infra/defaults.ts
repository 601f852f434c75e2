/** Settings every Lambda of the app shares, applied before any function is declared. */
$transform(sst.aws.Function, (args) => {
  // Graviton: ~20 % cheaper per GB-second; nothing in the bundle is native code.
  args.architecture ??= "arm64";
  args.runtime ??= "nodejs22.x";
  args.memory ??= "512 MB";
  args.logging ??= { retention: "1 month", format: "json" };
});

/**
 * Lambda concurrency reserved per function (of the account's default 1,000, leaving the rest
 * unreserved): the API is capped, so a flood of requests (logins cost scrypt time) cannot take the
 * concurrency the workflow's tasks, the reactions and the schedules need; each of those has its own.
 * API Gateway's stage throttling (infra/api.ts) comes first.
 */
export const RESERVED_CONCURRENCY = {
  api: 400,
  workflowTask: 20,
  reactions: 4,
  eventsSubscriber: 5,
  schedule: 2,
} as const;

/** API Gateway's default route throttling (requests per second, token bucket burst) for the stage. */
export const API_THROTTLING = { rateLimit: 1000, burstLimit: 2000 } as const;

/** A stage whose data outlives it (removal "retain"): its table cannot be deleted by accident. */
export const persistentStage = () => $app.removal !== "remove";
