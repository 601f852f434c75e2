/** The Job entity: statuses, stored item, public view and the submission schema. */
import * as z from "zod";
import { GPU_TYPES, type GpuType, PROVIDERS, type Provider } from "../catalog/catalog";
import { ceilToMilliHours, type MilliHours, milliToHours } from "../util/hours";
import { isId } from "../util/id";
import { formatUsd, type Micros } from "../util/money";
import { plainLines, plainText } from "../util/text";

export const JOB_STATUSES = ["PENDING", "APPROVED", "REJECTED", "RUNNING", "COMPLETED", "FAILED", "CANCELLED"] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** Statuses with a lifecycle still to run (and a quota reservation held). */
export const OPEN_STATUSES = ["PENDING", "APPROVED", "RUNNING"] as const satisfies readonly JobStatus[];
export type OpenStatus = (typeof OPEN_STATUSES)[number];
export const isOpen = (status: JobStatus): status is OpenStatus => (OPEN_STATUSES as readonly string[]).includes(status);

export const PRIORITIES = ["low", "medium", "high"] as const;
export type Priority = (typeof PRIORITIES)[number];

export const MAX_ESTIMATED_HOURS = 720;
export const MAX_GPU_COUNT = 64;
export const MAX_DEPENDENCIES = 20;

const JobIdSchema = z.string().refine(isId, "must be a job id");

export const SubmitJobInput = z.strictObject({
  name: plainText(z.string().trim().min(1).max(128)),
  image: plainText(z.string().trim().min(1).max(512).regex(/^\S+$/, "must not contain whitespace")),
  command: plainLines(z.string().min(1).max(4096)),
  dataLocation: z.string().trim().min(1).max(1024).optional(),
  sensitive: z.boolean().default(false),
  gpuType: z.enum(GPU_TYPES),
  gpuCount: z.number().int().min(1).max(MAX_GPU_COUNT),
  cpu: z.number().int().min(1).max(512).optional(),
  ramGb: z.number().int().min(1).max(4096).optional(),
  // Any positive number of hours (a user writes 50/60 for 50 minutes). A quota holds whole
  // milli-hours, so the job keeps the estimate rounded UP to one: it shows the value it reserves.
  estimatedHours: z
    .number()
    .positive("must be more than 0")
    .max(MAX_ESTIMATED_HOURS)
    .transform((hours) => milliToHours(ceilToMilliHours(hours))),
  priority: z.enum(PRIORITIES).default("medium"),
  dependsOn: z
    .array(JobIdSchema)
    .max(MAX_DEPENDENCIES)
    .default([])
    .refine((ids) => new Set(ids).size === ids.length, "must not repeat a job id"),
  provider: z.enum(PROVIDERS).optional(),
  /** Submit for an org the caller belongs to: the org's budget pays for it, its owner can read it. */
  orgId: z.string().refine(isId, "must be an org id").optional(),
  /** Pins the job to one capacity pool (like a Slurm partition); otherwise placed when it starts. */
  clusterId: z.string().refine(isId, "must be a cluster id").optional(),
});
export type SubmitJobInput = z.output<typeof SubmitJobInput>;

export interface JobItem {
  pk: string;
  sk: string;
  gsi1pk: string;
  gsi1sk: string;
  gsi2pk: string;
  gsi2sk: string;
  gsi3pk: string;
  gsi3sk: string;
  type: "Job";
  id: string;
  ownerId: string;
  orgId?: string;
  name: string;
  image: string;
  command: string;
  dataLocation?: string;
  sensitive: boolean;
  gpuType: GpuType;
  gpuCount: number;
  cpu?: number;
  ramGb?: number;
  estimatedHours: number;
  priority: Priority;
  dependsOn: string[];
  provider?: Provider;
  /** The pool it is pinned to (at submission) or runs on (from its start). */
  clusterId?: string;
  /** What it holds on its pool while RUNNING (taken at its start, given back when it ends). */
  allocation?: { clusterId: string; gpus: number; cpu: number; ramGb: number };
  status: JobStatus;
  errorMessage?: string;
  rejectionReason?: string;
  /** GPU-hours held against the owner's quota while the job is open. */
  reservedMilli: MilliHours;
  /** The quota period holding the reservation. */
  quotaPeriod: string;
  estimatedCostMicros: Micros;
  /** The org budget month ("YYYY-MM") holding an org job's estimate (org jobs only). */
  budgetPeriod?: string;
  /** Catalog price per GPU-hour when submitted: the estimate and the actual cost both use it. */
  pricePerGpuHourMicros?: Micros;
  actualCostMicros?: Micros;
  /** GPU-hours settled against the quota when the job ended (gpuCount × run time). */
  usedMilli?: MilliHours;
  /** Task token of the workflow state waiting for an admin (internal; never shown to clients). */
  taskToken?: string;
  /** The task token the last transition answered (the reaction sends it; the reconciler re-sends it to an execution still parked on it). */
  answeredToken?: string;
  /** Who made the last transition: a user id, "system" or "workflow". */
  updatedBy?: string;
  createdAt: string;
  updatedAt: string;
  approvedAt?: string;
  approvedBy?: string;
  startedAt?: string;
  finishedAt?: string;
}

/** The job as API clients see it: money as USD strings, no storage keys. */
export function toJob(item: JobItem) {
  return {
    id: item.id,
    ownerId: item.ownerId,
    orgId: item.orgId,
    name: item.name,
    image: item.image,
    command: item.command,
    dataLocation: item.dataLocation,
    sensitive: item.sensitive,
    gpuType: item.gpuType,
    gpuCount: item.gpuCount,
    cpu: item.cpu,
    ramGb: item.ramGb,
    estimatedHours: item.estimatedHours,
    priority: item.priority,
    dependsOn: item.dependsOn,
    provider: item.provider,
    clusterId: item.clusterId,
    status: item.status,
    errorMessage: item.errorMessage,
    rejectionReason: item.rejectionReason,
    reservedGpuHours: milliToHours(item.reservedMilli),
    usedGpuHours: item.usedMilli === undefined ? undefined : milliToHours(item.usedMilli),
    estimatedCostUsd: formatUsd(item.estimatedCostMicros),
    actualCostUsd: item.actualCostMicros === undefined ? undefined : formatUsd(item.actualCostMicros),
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
    approvedAt: item.approvedAt,
    approvedBy: item.approvedBy,
    startedAt: item.startedAt,
    finishedAt: item.finishedAt,
  };
}
export type Job = ReturnType<typeof toJob>;

export interface JobEventItem {
  pk: string;
  sk: string;
  type: "JobEvent";
  jobId: string;
  status: JobStatus;
  /** Who or what caused it: a user id, or "system" / "workflow". */
  actor: string;
  reason?: string;
  at: string;
}

/** Dependents index item: job `jobId` names `dependsOn` in its `dependsOn` (stored in the dependency's partition). */
export interface JobDependentItem {
  pk: string;
  sk: string;
  type: "JobDependent";
  jobId: string;
  dependsOn: string;
}

/** Statuses a dependency can end in that cancel its dependents (a dependent can never start). */
export const UNSUCCESSFUL_STATUSES = ["REJECTED", "FAILED", "CANCELLED"] as const satisfies readonly JobStatus[];
export const endedUnsuccessfully = (status: JobStatus) => (UNSUCCESSFUL_STATUSES as readonly string[]).includes(status);

export const toJobEvent = (e: JobEventItem) => ({ status: e.status, actor: e.actor, reason: e.reason, at: e.at });
