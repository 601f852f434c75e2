/** Placement on capacity pools: eligibility (GPU type, provider, org, pinned pool), the cheapest
 * provider's pool first then the one with most room, and whether a request can ever fit. */

import { describe, expect, it } from "vitest";
import {
  canEverFit,
  choosePool,
  demandOf,
  eligiblePools,
  largestPool,
  type PlacementRequest,
} from "../packages/core/src/admission/placement";
import { createCatalog } from "../packages/core/src/catalog/catalog";
import type { ClusterItem } from "../packages/core/src/cluster/cluster";
import { clusterItem } from "../packages/core/src/cluster/store";

const catalog = createCatalog();
let n = 0;
function pool(over: Partial<ClusterItem> & { used?: number } = {}): ClusterItem {
  const { used = 0, ...rest } = over;
  const item = clusterItem({
    id: `01J${String(++n).padStart(23, "0")}`,
    name: `pool-${n}`,
    provider: "aws",
    region: "us-east-1",
    gpuType: "A100",
    totalGpus: 8,
    totalCpu: 64,
    totalRamGb: 512,
    createdBy: "admin",
    createdAt: "2026-11-01T00:00:00.000Z",
    updatedAt: "2026-11-01T00:00:00.000Z",
    ...rest,
  });
  return { ...item, availableGpus: item.totalGpus - used, allocatedGpus: used, ...rest };
}
const job = (over: Partial<PlacementRequest> = {}): PlacementRequest => ({ gpuType: "A100", gpuCount: 2, ...over });

describe("placement", () => {
  it("holds GPUs always, CPU and RAM only when asked for", () => {
    expect(demandOf({ gpuCount: 2 })).toEqual({ gpus: 2, cpu: 0, ramGb: 0 });
    expect(demandOf({ gpuCount: 2, cpu: 8, ramGb: 64 })).toEqual({ gpus: 2, cpu: 8, ramGb: 64 });
  });

  it("keeps pools of the job's GPU type and provider, shared or of its own org, and only the pinned one", () => {
    const shared = pool();
    const mine = pool({ orgId: "ORG1" });
    const theirs = pool({ orgId: "ORG2" });
    const gcp = pool({ provider: "gcp" });
    const h100 = pool({ gpuType: "H100" });
    const all = [shared, mine, theirs, gcp, h100];
    expect(eligiblePools(all, job()).map((p) => p.id)).toEqual([shared.id, gcp.id]);
    expect(eligiblePools(all, job({ orgId: "ORG1" })).map((p) => p.id)).toEqual([shared.id, mine.id, gcp.id]);
    expect(eligiblePools(all, job({ provider: "gcp" })).map((p) => p.id)).toEqual([gcp.id]);
    expect(eligiblePools(all, job({ clusterId: gcp.id })).map((p) => p.id)).toEqual([gcp.id]);
  });

  it("places on the cheapest provider's pool with room, then on the one with most room", () => {
    const aws = pool({ provider: "aws" }); // A100 4.10
    const lambdaFull = pool({ provider: "lambda", used: 7 }); // 1.29, one GPU free
    const onpremSmall = pool({ provider: "onprem", used: 4 }); // 0.90, four free
    const onpremBig = pool({ provider: "onprem", used: 1 }); // 0.90, seven free
    expect(choosePool([aws, lambdaFull, onpremSmall, onpremBig], job(), catalog)).toMatchObject({
      pool: { id: onpremBig.id },
      pricePerGpuHourMicros: 900_000,
    });
    expect(choosePool([aws, lambdaFull], job(), catalog)?.pool.id).toBe(aws.id);
    expect(choosePool([aws, lambdaFull], job({ gpuCount: 1 }), catalog)?.pool.id).toBe(lambdaFull.id);
  });

  it("skips draining pools and pools without room for CPU or RAM", () => {
    const draining = pool({ provider: "onprem", draining: true });
    const noCpu = pool({ provider: "lambda", availableCpu: 4 });
    const aws = pool();
    expect(choosePool([draining, noCpu, aws], job({ cpu: 8 }), catalog)?.pool.id).toBe(aws.id);
    expect(choosePool([draining, noCpu], job({ cpu: 8 }), catalog)).toBeUndefined();
  });

  it("tells a request that can never fit from one that must wait, and names the largest pool", () => {
    const small = pool({ totalGpus: 2 });
    const big = pool({ totalGpus: 4, used: 4 });
    expect(canEverFit([small, big], job({ gpuCount: 4 }))).toBe(true);
    expect(choosePool([small, big], job({ gpuCount: 4 }), catalog)).toBeUndefined();
    expect(canEverFit([small, big], job({ gpuCount: 5 }))).toBe(false);
    expect(largestPool([small, big])?.id).toBe(big.id);
  });
});
