/** `@gpuaas/core/api`: the use cases the HTTP API calls, each `(core, actor, …ids, input)`, and the
 * input schemas and enumerations its OpenAPI document is generated from. */

export { clusterQueue } from "../admission/views";
export { AUDIT_ACTIONS, ListAuditInput } from "../audit/audit";
export { listAudit } from "../audit/service";
export { authenticate, verifyToken } from "../auth/access";
export { ChangePasswordInput, changePassword, ensureAdmin, LoginInput, login, logout, me, RegisterInput, register } from "../auth/service";
export { type Actor, publicKeySet } from "../auth/token";
export { CreateClusterInput, CreateOrgClusterInput, UpdateClusterInput } from "../cluster/cluster";
export { createCluster, createOrgCluster, getCluster, listClusters, updateCluster } from "../cluster/service";
export { CostReportInput, GROUP_BY, getCosts } from "../cost/report";
export { getCostSnapshots, RollupInput, runRollup, SnapshotsInput } from "../cost/rollup";
export { IdempotencyKeySchema } from "../idempotency/idempotency";
export { approveJob, cancelJob, completeJob, FailInput, failJob, NoteInput, RejectInput, rejectJob, startJob } from "../job/actions";
export { InvalidTransitionError } from "../job/errors";
export { JOB_STATUSES, OPEN_STATUSES, PRIORITIES, SubmitJobInput } from "../job/job";
export { getJob, getJobEvents, getJobWorkflow, ListJobsInput, listAllJobs, listMyJobs } from "../job/queries";
export { submitJob } from "../job/submit";
export { listOrgAlerts, setOrgBudget } from "../org/budget";
export { ALERT_THRESHOLDS, CreateOrgInput, JoinOrgInput, ORG_ROLES, SetBudgetInput } from "../org/org";
export { createOrg, joinOrg, leaveOrg, listMyOrgs, listOrgMembers, removeMember, rotateInviteCode } from "../org/service";
export { ListOrgJobsInput, listOrgJobs } from "../org/views";
export { ListUsersInput, listUsers, runQuotaReset, SetQuotaInput, setUserQuota, UpdateUserInput, updateUser } from "../quota/admin";
export { EmailSchema, PasswordSchema, ROLES } from "../user/user";
