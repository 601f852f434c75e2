/** A Log that records its lines (keys of its children merged in), for asserting what was logged. */
import type { Log } from "@gpuaas/core";

export interface LoggedLine {
  level: "debug" | "info" | "warn" | "error";
  message: string;
  fields: Record<string, unknown>;
}

export function recordingLog() {
  const lines: LoggedLine[] = [];
  const make = (keys: Record<string, unknown>): Log => {
    const at =
      (level: LoggedLine["level"]) =>
      (message: string, fields: Record<string, unknown> = {}) =>
        void lines.push({ level, message, fields: { ...keys, ...fields } });
    return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error"), child: (more) => make({ ...keys, ...more }) };
  };
  return { log: make({}), lines };
}
