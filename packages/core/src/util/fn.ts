/** Wraps a core function so its input is parsed by a zod schema first: HTTP handlers, workflow
 * tasks and scripts all get the same checks, and the body only ever sees valid input. */
import type { z } from "zod";
import { ValidationError } from "../errors";

export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    path: issue.path.map(String).join("."),
    message: issue.message,
  }));
  const summary = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join("; ");
  throw new ValidationError(summary || "Invalid input", issues);
}

export function fn<S extends z.ZodType, Args extends unknown[], R>(schema: S, body: (input: z.output<S>, ...rest: Args) => R) {
  const wrapped = (input: z.input<S> | unknown, ...rest: Args): R => body(parseInput(schema, input), ...rest);
  return Object.assign(wrapped, { schema });
}
