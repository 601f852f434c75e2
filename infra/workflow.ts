/** The job lifecycle: one Standard state machine built from core's JSONPath definition (the object
 * the local engine runs too), each Task state bound to its own Lambda. SST's StepFunctions builders
 * emit JSONata only, so the machine is the Pulumi resource, with a role that may only invoke them. */
import { buildJobWorkflowDefinition, TASK_KEYS, type TaskKey } from "@gpuaas/core/workflow";
import { TASKS } from "../packages/core/src/workflow/definition";
import { WORKFLOW_TASK_HANDLERS } from "../packages/functions/src/handlers";
import { RESERVED_CONCURRENCY } from "./defaults";
import { table, tableAccess } from "./storage";

// The machine's name and ARN are fixed up front, so every Lambda can link the ARN without waiting
// for the machine, which itself waits for the task Lambdas: no dependency cycle.
const name = `${$app.name}-${$app.stage}-JobWorkflow`;
const partition = aws.getPartitionOutput().partition;
const region = aws.getRegionOutput().region;
const account = aws.getCallerIdentityOutput().accountId;
const arn = $interpolate`arn:${partition}:states:${region}:${account}:stateMachine:${name}`;

/** Link it to start, stop and describe executions (named after job ids) and answer task tokens. */
export const jobWorkflow = new sst.Linkable("JobWorkflow", {
  properties: { arn },
  include: [
    sst.aws.permission({
      actions: ["states:StartExecution", "states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"],
      resources: [arn],
    }),
    sst.aws.permission({
      actions: ["states:StopExecution", "states:DescribeExecution"],
      resources: [$interpolate`arn:${partition}:states:${region}:${account}:execution:${name}:*`],
    }),
  ],
});

const taskFunctions = Object.fromEntries(
  TASK_KEYS.map((key) => [
    key,
    new sst.aws.Function(`Workflow${TASKS[key]}`, {
      handler: WORKFLOW_TASK_HANDLERS[key],
      description: `Job workflow task ${TASKS[key]}`,
      // A callback task whose job has already moved on answers its own token, hence the link.
      link: [table, jobWorkflow],
      permissions: [tableAccess(key)],
      timeout: "30 seconds",
      concurrency: { reserved: RESERVED_CONCURRENCY.workflowTask },
    }),
  ]),
) as Record<TaskKey, sst.aws.Function>;

const taskArns = Object.fromEntries(TASK_KEYS.map((key) => [key, taskFunctions[key].arn]));

const role = new aws.iam.Role("JobWorkflowRole", {
  assumeRolePolicy: $jsonStringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: "states.amazonaws.com" },
        Action: "sts:AssumeRole",
        // Only Step Functions acting for this account (confused-deputy guard).
        Condition: { StringEquals: { "aws:SourceAccount": account } },
      },
    ],
  }),
});

const invokeTasks = new aws.iam.RolePolicy("JobWorkflowInvokeTasks", {
  role: role.id,
  policy: $jsonStringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Action: "lambda:InvokeFunction",
        // The task functions and their versions/aliases; nothing else.
        Resource: Object.values(taskArns).flatMap((fn) => [fn, $interpolate`${fn}:*`]),
      },
    ],
  }),
});

export const stateMachine = new aws.sfn.StateMachine(
  "JobWorkflowStateMachine",
  {
    name,
    type: "STANDARD",
    roleArn: role.arn,
    definition: $resolve(taskArns).apply((arns) => JSON.stringify(buildJobWorkflowDefinition(arns as Record<TaskKey, string>))),
  },
  // Create the machine once its role may invoke the tasks.
  { dependsOn: [invokeTasks] },
);
