/** The API's responses as zod schemas, for the OpenAPI document only: each mirrors a view core
 * returns (toJob, toUser, toOrg, toCluster, ...). Nothing parses responses with them at runtime;
 * test/openapi.int.test.ts validates real responses against the document built from them, so a
 * view that changes without its schema fails there. Objects are closed (`additionalProperties:
 * false` in output mode), so a field added to a view shows up as a failure too. The schemas are built
 * on first use (the first GET /openapi.json), so the cold start of other routes does not pay for them. */

import { GPU_TYPES, PROVIDERS } from "@gpuaas/core";
import { ALERT_THRESHOLDS, AUDIT_ACTIONS, GROUP_BY, JOB_STATUSES, ORG_ROLES, PRIORITIES, ROLES } from "@gpuaas/core/api";
import * as z from "zod";

/** The response schemas by component name. */
export function responseSchemas() {
  const Id = z.string().meta({ description: "A ULID", examples: ["01ARZ3NDEKTSV4RRFFQ69G5FAV"] });
  const Time = z.string().meta({ description: "ISO-8601 UTC timestamp", format: "date-time" });
  const Usd = z.string().meta({ description: "USD with at least two decimals (exact, never a float)", examples: ["17.20"] });
  const Period = z.string().meta({ description: "A calendar month, UTC (YYYY-MM)", examples: ["2026-12"] });
  const Day = z.string().meta({ description: "A UTC day (YYYY-MM-DD)", format: "date" });
  const Cursor = z.string().nullable().meta({ description: "Pass as `cursor` for the next page; null on the last page" });
  const page = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), nextCursor: Cursor });
  const list = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item) });

  /** `{"error":{"code","message",...}}`, the body of every 4xx and 5xx (functions/api/errors.ts). */
  const ErrorBody = z.object({
    error: z.looseObject({
      code: z.string().meta({ examples: ["VALIDATION_ERROR"] }),
      message: z.string(),
      issues: z
        .array(z.object({ path: z.string(), message: z.string() }))
        .optional()
        .meta({ description: "VALIDATION_ERROR: the failing fields" }),
      currentStatus: z.enum(JOB_STATUSES).optional().meta({ description: "INVALID_TRANSITION: the job's status" }),
      dependencies: z
        .array(z.object({ id: Id, status: z.union([z.enum(JOB_STATUSES), z.literal("MISSING")]) }))
        .optional()
        .meta({ description: "DEPENDENCY_FAILED / DEPENDENCIES_NOT_MET: the dependencies and their statuses" }),
    }),
  });

  const Health = z.object({ status: z.literal("ok") });

  const Jwks = z.object({
    keys: z.array(
      z.object({
        kty: z.literal("EC"),
        crv: z.literal("P-256"),
        x: z.string(),
        y: z.string(),
        kid: z.string(),
        alg: z.literal("ES256"),
        use: z.literal("sig"),
      }),
    ),
  });

  const Quota = z.object({
    period: Period,
    limitHours: z.number(),
    reservedHours: z.number(),
    usedHours: z.number(),
    remainingHours: z.number().meta({ description: "May be below zero after an admin lowered the limit" }),
  });

  const User = z.object({ id: Id, email: z.string(), fullName: z.string(), role: z.enum(ROLES), active: z.boolean(), createdAt: Time });
  const Me = z.object({ ...User.shape, quota: Quota });
  const AdminUser = z.object({ ...User.shape, monthlyLimitHours: z.number(), quota: Quota });
  const UserPage = page(AdminUser);
  const AuditEntry = z.object({
    id: Id,
    at: z.string(),
    actor: z.object({ id: Id, role: z.enum(ROLES) }),
    action: z.enum(AUDIT_ACTIONS),
    target: z.object({ kind: z.enum(["user", "org", "cluster", "quotaReset", "costRollup"]), id: z.string() }),
    before: z.record(z.string(), z.unknown()).nullable(),
    after: z.record(z.string(), z.unknown()).nullable(),
    requestId: z.string().nullable(),
    clientRequestId: z.string().nullable(),
  });
  const AuditPage = page(AuditEntry);
  const Token = z.object({
    accessToken: z.string(),
    tokenType: z.literal("Bearer"),
    expiresIn: z.number().int().meta({ description: "Seconds" }),
  });

  const Waiting = z.discriminatedUnion("reason", [
    z.object({ reason: z.literal("AWAITING_APPROVAL"), message: z.string() }),
    z.object({
      reason: z.literal("WAITING_FOR_DEPENDENCIES"),
      dependencies: z.array(z.object({ id: Id, status: z.union([z.enum(JOB_STATUSES), z.literal("MISSING")]) })),
      message: z.string(),
    }),
    z.object({ reason: z.literal("AWAITING_START"), message: z.string() }),
    z.object({
      reason: z.literal("WAITING_FOR_CAPACITY"),
      clusterId: Id,
      position: z.number().int(),
      expectedStartAt: Time.nullable(),
      message: z.string(),
    }),
  ]);

  const Job = z.object({
    id: Id,
    ownerId: Id,
    orgId: Id.optional(),
    name: z.string(),
    image: z.string(),
    command: z.string(),
    dataLocation: z.string().optional(),
    sensitive: z.boolean(),
    gpuType: z.enum(GPU_TYPES),
    gpuCount: z.number().int(),
    cpu: z.number().int().optional(),
    ramGb: z.number().int().optional(),
    estimatedHours: z.number().meta({ description: "Rounded up to the next milli-GPU-hour" }),
    priority: z.enum(PRIORITIES),
    dependsOn: z.array(Id),
    provider: z.enum(PROVIDERS).optional(),
    clusterId: Id.optional(),
    status: z.enum(JOB_STATUSES),
    errorMessage: z.string().optional(),
    rejectionReason: z.string().optional(),
    reservedGpuHours: z.number(),
    usedGpuHours: z.number().optional(),
    estimatedCostUsd: Usd,
    actualCostUsd: Usd.optional(),
    createdAt: Time,
    updatedAt: Time,
    approvedAt: Time.optional(),
    approvedBy: z.string().optional(),
    startedAt: Time.optional(),
    finishedAt: Time.optional(),
    waiting: Waiting.optional().meta({ description: "Why an open job is not running yet" }),
  });
  const JobPage = page(Job);
  const JobEvents = list(z.object({ status: z.enum(JOB_STATUSES), actor: z.string(), reason: z.string().optional(), at: Time }));
  const JobWorkflow = z.object({
    jobId: Id,
    execution: z
      .object({
        name: z.string(),
        status: z.enum(["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE"]),
        startedAt: Time,
        stoppedAt: Time.optional(),
        currentState: z.string().optional(),
        history: z
          .array(z.object({ type: z.string(), state: z.string().optional(), at: Time, error: z.string().optional() }))
          .optional()
          .meta({ description: "The state history (local engine only)" }),
      })
      .nullable(),
  });

  const MonthToDate = z.object({ period: Period, monthlyBudgetUsd: Usd.optional(), spendUsd: Usd, remainingUsd: Usd.optional() });
  const Org = z.object({
    id: Id,
    name: z.string(),
    role: z.enum(ORG_ROLES).optional(),
    inviteCode: z.string().optional().meta({ description: "Owners only" }),
    monthlyBudgetUsd: Usd.optional().meta({ description: "Owners only" }),
    createdBy: Id,
    createdAt: Time,
    monthToDate: MonthToDate.optional().meta({ description: "Owners only, in GET /orgs" }),
  });
  const OrgList = list(Org);
  const OrgMembers = list(
    z.object({ userId: Id, role: z.enum(ORG_ROLES), joinedAt: Time, email: z.string().optional(), fullName: z.string().optional() }),
  );
  const OrgSpend = z.object({ orgId: Id, ...MonthToDate.shape });
  const OrgAlerts = list(
    z.object({
      orgId: Id,
      period: Period,
      thresholdPercent: z.union(ALERT_THRESHOLDS.map((t) => z.literal(t))),
      spendUsd: Usd,
      budgetUsd: Usd,
      at: Time,
    }),
  );

  const Totals = { costUsd: Usd, gpuHours: z.number(), jobCount: z.number().int() };
  const CostReport = z.object({
    from: Day,
    to: Day,
    groupBy: z.enum(GROUP_BY),
    items: z.array(
      z.object({
        provider: z.enum(PROVIDERS).optional(),
        gpuType: z.enum(GPU_TYPES).optional(),
        orgId: Id.nullable().optional().meta({ description: "groupBy=org: null for jobs outside any org" }),
        day: Day.optional(),
        ...Totals,
      }),
    ),
    total: z.object(Totals),
  });
  const CostSnapshot = z.discriminatedUnion("kind", [
    z.object({
      day: Day,
      kind: z.literal("providerGpu"),
      provider: z.string().meta({ description: "A catalog provider" }),
      gpuType: z.string().meta({ description: "A catalog GPU type" }),
      ...Totals,
    }),
    z.object({ day: Day, kind: z.literal("org"), orgId: Id, ...Totals }),
  ]);
  const Rollup = z.object({
    day: Day,
    rolledUpAt: Time,
    jobsRead: z.number().int(),
    usageItemsRead: z.number().int(),
    runningJobsRead: z.number().int(),
    snapshots: z.array(CostSnapshot),
  });
  const CostSnapshots = z.object({ day: Day, rolledUpAt: Time.nullable(), snapshots: z.array(CostSnapshot) });
  const QuotaReset = z.object({
    period: Period,
    done: z.boolean(),
    phase: z.enum(["users", "jobs", "done"]),
    usersOpened: z.number().int(),
    jobsCarried: z.number().int(),
    startedAt: Time,
    finishedAt: Time.optional(),
  });

  const Cluster = z.object({
    id: Id,
    name: z.string(),
    provider: z.enum(PROVIDERS),
    region: z.string(),
    gpuType: z.enum(GPU_TYPES),
    orgId: Id.optional().meta({ description: "Set for a private pool" }),
    totalGpus: z.number().int(),
    availableGpus: z.number().int(),
    totalCpu: z.number().int(),
    availableCpu: z.number().int(),
    totalRamGb: z.number().int(),
    availableRamGb: z.number().int(),
    draining: z.boolean(),
    createdBy: Id,
    createdAt: Time,
    updatedAt: Time,
  });
  const ClusterList = list(Cluster);
  const ClusterQueue = z.object({
    clusterId: Id,
    items: z.array(
      z.object({
        position: z.number().int(),
        expectedStartAt: Time.nullable(),
        gpus: z.number().int(),
        job: Job.optional().meta({ description: "The caller's own jobs (every job for admins)" }),
      }),
    ),
  });

  const Catalog = z.object({
    version: z.string(),
    items: z.array(z.object({ gpuType: z.enum(GPU_TYPES), provider: z.enum(PROVIDERS), pricePerGpuHourUsd: Usd })),
  });

  return {
    Error: ErrorBody,
    Health,
    Jwks,
    User,
    Me,
    Token,
    Quota,
    AdminUser,
    UserPage,
    AuditPage,
    Waiting,
    Job,
    JobPage,
    JobEvents,
    JobWorkflow,
    Org,
    OrgList,
    OrgMembers,
    OrgSpend,
    OrgAlerts,
    CostReport,
    Rollup,
    CostSnapshots,
    QuotaReset,
    Cluster,
    ClusterList,
    ClusterQueue,
    Catalog,
  } satisfies Record<string, z.ZodType>;
}
