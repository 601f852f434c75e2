/** Opaque pagination cursors: base64url JSON, validated on the way back in. */
import type { z } from "zod";
import { ValidationError } from "../errors";

export const encodeCursor = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url");

export function decodeCursor<S extends z.ZodType>(schema: S, cursor: string): z.output<S> {
  try {
    return schema.parse(JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")));
  } catch {
    throw new ValidationError("cursor: is not a cursor this API returned", [{ path: "cursor", message: "invalid" }]);
  }
}
