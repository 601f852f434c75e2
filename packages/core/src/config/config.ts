/** The one typed configuration module. Everything the domain can be tuned by is read here,
 * from an env-like record, and a missing or malformed value fails loudly at start-up. */
import * as z from "zod";
import type { OutboundSettings } from "../aws/outbound";
import { type CatalogOverrides, CatalogOverridesSchema } from "../catalog/catalog";
import { LOG_LEVELS, type LogLevel } from "../log";

/** scrypt's cost as log2 N (auth/password.ts): the default (OWASP's minimum, 2^17) and the range a
 * setting may choose and a stored hash may carry. */
export const PASSWORD_HASH_COST = { default: 17, min: 10, max: 18 } as const;

/** A JSON value checked by `schema`. */
const json = <S extends z.ZodType>(schema: S) =>
  z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: "custom", message: "must be JSON" });
        return z.NEVER;
      }
    })
    .pipe(schema);

/** An EC P-256 public key as a JWK, named by its `kid` (RFC 7517). */
const PublicJwkSchema = z.object({
  kty: z.literal("EC"),
  crv: z.literal("P-256"),
  x: z.string().regex(/^[\w-]{43}$/, "must be a base64url P-256 coordinate"),
  y: z.string().regex(/^[\w-]{43}$/, "must be a base64url P-256 coordinate"),
  kid: z.string().regex(/^[\w.-]{1,64}$/, "must be 1 to 64 letters, digits, '.', '_' or '-'"),
});
/** Its private half (`d`) as well: a signing key. */
const PrivateJwkSchema = PublicJwkSchema.extend({ d: z.string().regex(/^[\w-]{43}$/, "must be a base64url P-256 private key") });
export type PublicJwk = z.output<typeof PublicJwkSchema>;
export type PrivateJwk = z.output<typeof PrivateJwkSchema>;

const number = (fallback: number) => z.coerce.number().finite().default(fallback);

const EnvSchema = z.object({
  TABLE_NAME: z.string().min(1).default("gpuaas"),
  DYNAMODB_ENDPOINT: z.string().url().optional(),
  AWS_REGION: z.string().min(1).default("us-east-1"),
  // The API's ES256 signing key (a private JWK with its kid); no other function has one.
  JWT_SIGNING_KEY: json(PrivateJwkSchema).optional(),
  // Public keys of retired signing keys: tokens they signed verify until they expire (rotation).
  JWT_RETIRED_KEYS: json(z.array(PublicJwkSchema).max(10)).default([]),
  JWT_ISSUER: z.string().min(1).default("gpuaas"),
  JWT_AUDIENCE: z.string().min(1).default("gpuaas-api"),
  JWT_TTL_SECONDS: number(900).pipe(z.number().int().min(60).max(86_400)),
  DEFAULT_MONTHLY_GPU_HOURS: number(10).pipe(z.number().min(0).max(1_000_000)),
  AUTO_APPROVE_MAX_GPU_HOURS: number(0).pipe(z.number().min(0)),
  MAX_OPEN_JOBS_PER_USER: number(2000).pipe(z.number().int().min(1).max(1_000_000)),
  PASSWORD_HASH_COST: number(PASSWORD_HASH_COST.default).pipe(z.number().int().min(PASSWORD_HASH_COST.min).max(PASSWORD_HASH_COST.max)),
  SUBMIT_RATE_PER_SECOND: number(20).pipe(z.number().min(0.001).max(100_000)),
  SUBMIT_BURST: number(1000).pipe(z.number().int().min(1).max(1_000_000)),
  MAX_POOLS_PER_ORG: number(10).pipe(z.number().int().min(0).max(1000)),
  MAX_ORGS_PER_USER: number(50).pipe(z.number().int().min(1).max(1000)),
  REGISTRATION_MODE: z.enum(["open", "approval", "closed"]).default("open"),
  /** Comma-separated email domains that may register (empty: any). */
  ALLOWED_EMAIL_DOMAINS: z
    .string()
    .default("")
    .transform((list) =>
      list
        .split(",")
        .map((d) => d.trim().toLowerCase().replace(/^@/, ""))
        .filter(Boolean),
    )
    .pipe(z.array(z.string().regex(/^[a-z0-9.-]+\.[a-z]{2,}$/, "must be email domains, comma-separated (example.com,lab.org)"))),
  SIMULATION_SECONDS_PER_HOUR: number(3600).pipe(z.number().min(0)),
  SIMULATION_FAILURE_RATE: number(0.2).pipe(z.number().min(0).max(1)),
  AWS_CONNECT_TIMEOUT_MS: number(1000).pipe(z.number().int().min(50).max(60_000)),
  AWS_REQUEST_TIMEOUT_MS: number(2000).pipe(z.number().int().min(50).max(60_000)),
  AWS_MAX_ATTEMPTS: number(3).pipe(z.number().int().min(1).max(10)),
  LOG_LEVEL: z
    .string()
    .default("INFO")
    .transform((level) => level.toUpperCase())
    .pipe(z.enum(LOG_LEVELS)),
  JOB_WORKFLOW_ARN: z
    .string()
    .regex(/^arn:aws[\w-]*:states:[\w-]+:\d{12}:stateMachine:[\w-]+$/, "must be a state machine ARN")
    .optional(),
  GPU_CATALOG_OVERRIDES: json(CatalogOverridesSchema).default({}),
});

export interface CoreConfig {
  tableName: string;
  dynamoEndpoint?: string;
  region: string;
  /** Access tokens: ES256, signed with `signingKey` (the API's only: other functions have none and
   * issue no tokens), verified against `publicKeys` (the signing key's public half, then retired ones). */
  jwt: { signingKey?: PrivateJwk; publicKeys: PublicJwk[]; issuer: string; audience: string; ttlSeconds: number };
  /** Limit of a user's quota in a month nobody has set a limit for. */
  defaultMonthlyGpuHours: number;
  /** Non-sensitive jobs up to this many GPU-hours skip admin approval; 0 turns the policy off. */
  autoApproveMaxGpuHours: number;
  /** At most this many jobs of one user open at once (PENDING, APPROVED, RUNNING): MaxSubmitJobsPerUser. */
  maxOpenJobsPerUser: number;
  /** scrypt's cost as log2 N for new password hashes (auth/password.ts); older hashes are replaced on login. */
  passwordHashCost: number;
  /** At most this many private pools per org (each one is read by its GPU type's admission passes). */
  maxPoolsPerOrg: number;
  /** Orgs one user may belong to (own or member), counted on the account. */
  maxOrgsPerUser: number;
  /** Per user: SUBMIT_BURST submissions at once, then SUBMIT_RATE_PER_SECOND (quota/rate.ts). */
  submitRate: { ratePerSecond: number; burst: number };
  /** Who may register: anyone (open), anyone but an admin activates them (approval), nobody
   * (closed); and, when not empty, only emails of these domains. */
  registration: { mode: "open" | "approval" | "closed"; allowedEmailDomains: string[] };
  simulation: { secondsPerGpuHour: number; failureRate: number };
  /** The job lifecycle state machine in AWS; unset locally, where the local engine runs it. */
  jobWorkflowArn?: string;
  /** Price overrides on top of the catalog in code. */
  catalogOverrides: CatalogOverrides;
  /** Timeouts and attempts of every call to DynamoDB and Step Functions. */
  outbound: OutboundSettings;
  logLevel: LogLevel;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Parses settings from an env-like record with `schema`; throws ConfigError naming every bad value. */
export function parseSettings<S extends z.ZodType>(schema: S, env: Record<string, string | undefined>): z.output<S> {
  // An empty variable counts as unset, so defaults apply.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = schema.safeParse(present);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
  throw new ConfigError(`Invalid configuration: ${problems}`);
}

/** The public half of signing key `key`: what verifies its tokens, and what JWT_RETIRED_KEYS keeps after a rotation. */
export const publicHalf = (key: PrivateJwk): PublicJwk => ({ kty: key.kty, crv: key.crv, x: key.x, y: key.y, kid: key.kid });

/** The keys tokens verify against: the signing key's public half first, then the retired ones; each
 * kid names one key. */
function publicKeys(signing: PrivateJwk | undefined, retired: PublicJwk[]): PublicJwk[] {
  const keys = [...(signing ? [publicHalf(signing)] : []), ...retired];
  const kids = keys.map((k) => k.kid);
  const repeated = kids.find((kid, i) => kids.indexOf(kid) !== i);
  if (repeated)
    throw new ConfigError(`Invalid configuration: JWT_RETIRED_KEYS: kid "${repeated}" names two keys (a retired key needs its own kid)`);
  return keys;
}

/** Reads the configuration from `env` (process.env by default); throws ConfigError naming every bad value. */
export function loadConfig(env: Record<string, string | undefined> = process.env): CoreConfig {
  const e = parseSettings(EnvSchema, env);
  return {
    tableName: e.TABLE_NAME,
    dynamoEndpoint: e.DYNAMODB_ENDPOINT,
    region: e.AWS_REGION,
    jwt: {
      signingKey: e.JWT_SIGNING_KEY,
      publicKeys: publicKeys(e.JWT_SIGNING_KEY, e.JWT_RETIRED_KEYS),
      issuer: e.JWT_ISSUER,
      audience: e.JWT_AUDIENCE,
      ttlSeconds: e.JWT_TTL_SECONDS,
    },
    defaultMonthlyGpuHours: e.DEFAULT_MONTHLY_GPU_HOURS,
    autoApproveMaxGpuHours: e.AUTO_APPROVE_MAX_GPU_HOURS,
    maxOpenJobsPerUser: e.MAX_OPEN_JOBS_PER_USER,
    passwordHashCost: e.PASSWORD_HASH_COST,
    maxPoolsPerOrg: e.MAX_POOLS_PER_ORG,
    maxOrgsPerUser: e.MAX_ORGS_PER_USER,
    submitRate: { ratePerSecond: e.SUBMIT_RATE_PER_SECOND, burst: e.SUBMIT_BURST },
    registration: { mode: e.REGISTRATION_MODE, allowedEmailDomains: e.ALLOWED_EMAIL_DOMAINS },
    simulation: {
      secondsPerGpuHour: e.SIMULATION_SECONDS_PER_HOUR,
      failureRate: e.SIMULATION_FAILURE_RATE,
    },
    jobWorkflowArn: e.JOB_WORKFLOW_ARN,
    catalogOverrides: e.GPU_CATALOG_OVERRIDES,
    outbound: {
      connectTimeoutMs: e.AWS_CONNECT_TIMEOUT_MS,
      requestTimeoutMs: e.AWS_REQUEST_TIMEOUT_MS,
      maxAttempts: e.AWS_MAX_ATTEMPTS,
    },
    logLevel: e.LOG_LEVEL,
  };
}

/** The settings of a function that calls AWS but owns no table and signs no tokens (the event
 * subscriber): region, outbound timeouts and log level, with the same names and defaults. */
export function loadOutboundConfig(
  env: Record<string, string | undefined> = process.env,
): Pick<CoreConfig, "region" | "outbound" | "logLevel"> {
  const e = parseSettings(
    EnvSchema.pick({
      AWS_REGION: true,
      AWS_CONNECT_TIMEOUT_MS: true,
      AWS_REQUEST_TIMEOUT_MS: true,
      AWS_MAX_ATTEMPTS: true,
      LOG_LEVEL: true,
    }),
    env,
  );
  return {
    region: e.AWS_REGION,
    outbound: { connectTimeoutMs: e.AWS_CONNECT_TIMEOUT_MS, requestTimeoutMs: e.AWS_REQUEST_TIMEOUT_MS, maxAttempts: e.AWS_MAX_ATTEMPTS },
    logLevel: e.LOG_LEVEL,
  };
}
