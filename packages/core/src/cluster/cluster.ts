/** The cluster (capacity pool) entity: a pool of GPUs of one type at one provider and region,
 * shared or private to an org. Its item, input schemas and the view API clients see. */
import * as z from "zod";
import { GPU_TYPES, type GpuType, PROVIDERS, type Provider } from "../catalog/catalog";
import { isId } from "../util/id";
import { plainText } from "../util/text";

/** Largest pool accepted: GPUs, CPU cores and RAM GB. */
export const MAX_CLUSTER_GPUS = 100_000;
export const MAX_CLUSTER_CPU = 10_000_000;
export const MAX_CLUSTER_RAM_GB = 100_000_000;

/** The three resources a pool has and a job takes. */
export interface Capacity {
  gpus: number;
  cpu: number;
  ramGb: number;
}

/**
 * For each resource r: total, available and allocated, with available + allocated = total after
 * every write. `available` lets a take be one condition (`available >= wanted`, conditions cannot
 * subtract); `allocated` lets a release be one (`allocated >= given back`, so available never
 * exceeds total); a resize moves total and available together.
 */
export interface ClusterItem {
  pk: string;
  sk: string;
  type: "Cluster";
  gsi1pk: string;
  gsi1sk: string;
  gsi3pk: string;
  gsi3sk: string;
  id: string;
  name: string;
  provider: Provider;
  region: string;
  gpuType: GpuType;
  /** Private pool of this org; absent: shared by everyone. */
  orgId?: string;
  totalGpus: number;
  totalCpu: number;
  totalRamGb: number;
  availableGpus: number;
  availableCpu: number;
  availableRamGb: number;
  allocatedGpus: number;
  allocatedCpu: number;
  allocatedRamGb: number;
  /** Running jobs finish; nothing new is admitted. */
  draining: boolean;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

const count = (max: number) => z.number().int().min(1).max(max);

const ClusterFields = {
  name: plainText(z.string().trim().min(1).max(64)),
  provider: z.enum(PROVIDERS),
  region: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/, "must be 1 to 32 letters, digits, '-' or '_' (e.g. us-east-1)"),
  gpuType: z.enum(GPU_TYPES),
  totalGpus: count(MAX_CLUSTER_GPUS),
  totalCpu: count(MAX_CLUSTER_CPU),
  totalRamGb: count(MAX_CLUSTER_RAM_GB),
};

/** Body of `POST /orgs/{id}/clusters`: the org comes from the path. */
export const CreateOrgClusterInput = z.strictObject(ClusterFields);

/** Body of `POST /admin/clusters`: shared, or private to `orgId`. */
export const CreateClusterInput = z.strictObject({
  ...ClusterFields,
  orgId: z.string().refine(isId, "must be an org id").optional(),
});

/** Body of `PATCH /clusters/{id}`: new totals and/or the draining flag, at least one. */
export const UpdateClusterInput = z
  .strictObject({
    totalGpus: count(MAX_CLUSTER_GPUS).optional(),
    totalCpu: count(MAX_CLUSTER_CPU).optional(),
    totalRamGb: count(MAX_CLUSTER_RAM_GB).optional(),
    draining: z.boolean().optional(),
  })
  .refine((input) => Object.values(input).some((v) => v !== undefined), "give at least one of totalGpus, totalCpu, totalRamGb, draining");

/** A pool as API clients see it: totals and what is available now. */
export const toCluster = (c: ClusterItem) => ({
  id: c.id,
  name: c.name,
  provider: c.provider,
  region: c.region,
  gpuType: c.gpuType,
  orgId: c.orgId,
  totalGpus: c.totalGpus,
  availableGpus: c.availableGpus,
  totalCpu: c.totalCpu,
  availableCpu: c.availableCpu,
  totalRamGb: c.totalRamGb,
  availableRamGb: c.availableRamGb,
  draining: c.draining,
  createdBy: c.createdBy,
  createdAt: c.createdAt,
  updatedAt: c.updatedAt,
});
