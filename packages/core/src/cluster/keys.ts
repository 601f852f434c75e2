/** Every key of the cluster (capacity pool) entity is built here. docs/data-model.md ("Clusters
 * (capacity pools)") is the map. */

export const clusterKeys = {
  cluster: (clusterId: string) => ({ pk: `CLUSTER#${clusterId}`, sk: "CLUSTER" }),

  /** gsi1: who may see a pool. Shared pools in one partition, each org's private pools in its own,
   * so "the pools I may see" is the shared partition plus one Query per org of mine. */
  visibility: (clusterId: string, orgId?: string) => ({
    gsi1pk: orgId === undefined ? "CLUSTERS#SHARED" : `CLUSTERS#ORG#${orgId}`,
    gsi1sk: clusterId,
  }),
  sharedPartition: () => ({ gsi1pk: "CLUSTERS#SHARED" }),
  orgPartition: (orgId: string) => ({ gsi1pk: `CLUSTERS#ORG#${orgId}` }),

  /** gsi3: every pool of one GPU type (shared and private), by provider then id: the pools a job of
   * that type could run on is one Query; all pools are one Query per GPU type. */
  pool: (gpuType: string, provider: string, clusterId: string) => ({ gsi3pk: `POOLS#${gpuType}`, gsi3sk: `${provider}#${clusterId}` }),
  poolPartition: (gpuType: string) => ({ gsi3pk: `POOLS#${gpuType}` }),
} as const;
