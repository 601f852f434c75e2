/** What `sst deploy` prints and `sst output` returns. */
import { api } from "./api";
import { table } from "./storage";
import { stateMachine } from "./workflow";

export const outputs = {
  apiUrl: api.url,
  tableName: table.name,
  stateMachineArn: stateMachine.arn,
};
