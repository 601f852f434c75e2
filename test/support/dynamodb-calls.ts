/** The DynamoDB actions a Lambda's code can call: every module its handler file reaches through
 * value imports (type-only imports carry no code), across packages through their package.json
 * entry points, and in those modules each DynamoDB command it constructs, as the IAM actions the
 * command needs. An over-approximation by module, never an under-approximation: a module
 * reached is counted whole. */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "../..");

/** IAM actions per command class of @aws-sdk/lib-dynamodb and @aws-sdk/client-dynamodb. A
 * transaction needs the actions of the items in it as well (AWS's docs for TransactWriteItems). */
const ACTIONS: Record<string, string[]> = {
  GetCommand: ["GetItem"],
  GetItemCommand: ["GetItem"],
  PutCommand: ["PutItem"],
  PutItemCommand: ["PutItem"],
  UpdateCommand: ["UpdateItem"],
  UpdateItemCommand: ["UpdateItem"],
  DeleteCommand: ["DeleteItem"],
  DeleteItemCommand: ["DeleteItem"],
  QueryCommand: ["Query"],
  ScanCommand: ["Scan"],
  BatchGetCommand: ["BatchGetItem"],
  BatchWriteCommand: ["BatchWriteItem"],
  TransactWriteCommand: ["TransactWriteItems", "ConditionCheckItem", "PutItem", "UpdateItem", "DeleteItem"],
  TransactWriteItemsCommand: ["TransactWriteItems", "ConditionCheckItem", "PutItem", "UpdateItem", "DeleteItem"],
  TransactGetCommand: ["TransactGetItems", "GetItem"],
  DescribeTableCommand: ["DescribeTable"],
  CreateTableCommand: ["CreateTable"],
  DeleteTableCommand: ["DeleteTable"],
  UpdateTableCommand: ["UpdateTable"],
  UpdateTimeToLiveCommand: ["UpdateTimeToLive"],
  ListTablesCommand: ["ListTables"],
  DescribeStreamCommand: ["DescribeStream"],
  GetRecordsCommand: ["GetRecords"],
  GetShardIteratorCommand: ["GetShardIterator"],
};
const DYNAMODB_MODULES = new Set(["@aws-sdk/lib-dynamodb", "@aws-sdk/client-dynamodb", "@aws-sdk/client-dynamodb-streams"]);

function resolveFile(base: string): string | undefined {
  for (const candidate of [base, `${base}.ts`, join(base, "index.ts")])
    if (existsSync(candidate) && candidate.endsWith(".ts")) return candidate;
  return undefined;
}

function resolveSpecifier(from: string, spec: string): string | undefined {
  if (spec.startsWith(".")) return resolveFile(resolve(dirname(from), spec));
  const match = /^@gpuaas\/([\w-]+)(\/[\w-]+)?$/.exec(spec);
  if (!match) return undefined;
  const pkg = join(ROOT, "packages", match[1]!);
  const exports = JSON.parse(readFileSync(join(pkg, "package.json"), "utf8")).exports as Record<string, string>;
  const target = exports[`.${match[2] ?? ""}`];
  if (!target) throw new Error(`${spec} (from ${from}) is no entry point of its package`);
  return resolve(pkg, target);
}

/** `from` specifiers of a module's value imports and re-exports (not `import type` / `export type`). */
function valueImports(source: string): { spec: string; names: string }[] {
  const found: { spec: string; names: string }[] = [];
  for (const m of source.matchAll(/^(import|export)\s+(type\s+)?([^;]*?)\s*from\s*"([^"]+)";/gms)) {
    if (m[2]) continue;
    found.push({ spec: m[4]!, names: m[3]! });
  }
  for (const m of source.matchAll(/^import\s+"([^"]+)";/gm)) found.push({ spec: m[1]!, names: "" });
  return found;
}

/** Names a `{ a, type B, c as d }` clause brings in (`imported`: the left names) or gives out (the right names). */
function clauseNames(clause: string, side: "imported" | "exported"): string[] | undefined {
  const braces = /\{([^}]*)\}/.exec(clause);
  if (!braces) return undefined; // a namespace or default import: the whole module
  return braces[1]!
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part && !part.startsWith("type "))
    .map((part) => {
      const [left, right] = part.split(/\s+as\s+/);
      return (side === "imported" ? left : (right ?? left))!.trim();
    });
}

/** A module made only of re-exports (core's surfaces): reaching it for some names reaches only the modules that give those. */
const onlyReexports = (source: string) =>
  source
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/^\s*\/\/.*$/gm, "")
    .split(";")
    .map((s) => s.trim())
    .filter(Boolean)
    .every((statement) => /^export\s/.test(statement) && /\sfrom\s*"/.test(statement));

/** The DynamoDB IAM actions (without the `dynamodb:` prefix) reachable from `entry` (a path from the repository root). */
export function dynamodbActionsOf(entry: string): string[] {
  const seen = new Set<string>();
  const actions = new Set<string>();
  const queue: { file: string; names?: string[] }[] = [{ file: resolve(ROOT, entry) }];
  while (queue.length) {
    const { file, names: wanted } = queue.pop()!;
    const source = readFileSync(file, "utf8");
    const surface = wanted !== undefined && onlyReexports(source);
    const key = surface ? `${file}#${wanted!.sort().join(",")}` : file;
    if (seen.has(key)) continue;
    seen.add(key);
    const commands = new Set<string>();
    for (const { spec, names } of valueImports(source)) {
      if (DYNAMODB_MODULES.has(spec)) for (const name of names.match(/\w+Command\b/g) ?? []) commands.add(name);
      const next = resolveSpecifier(file, spec);
      if (!next) continue;
      if (surface) {
        const given = clauseNames(names, "exported");
        if (given && !given.some((name) => wanted!.includes(name))) continue;
      }
      queue.push({ file: next, names: clauseNames(names, "imported") });
    }
    for (const m of source.matchAll(/new (\w+Command)\(/g)) {
      if (!commands.has(m[1]!)) continue;
      const mapped = ACTIONS[m[1]!];
      if (!mapped) throw new Error(`${file}: ${m[1]} has no IAM actions in test/support/dynamodb-calls.ts`);
      for (const action of mapped) actions.add(action);
    }
  }
  return [...actions].sort();
}
