/** Structured JSON logs through AWS Lambda Powertools' Logger, the same in Lambda and locally.
 * Adapters hand core a child logger carrying the request or job id, so every line can be traced. */
import { Logger } from "@aws-lambda-powertools/logger";

export const LOG_LEVELS = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "CRITICAL", "SILENT"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

type Fields = Record<string, unknown>;

export interface Log {
  debug(message: string, fields?: Fields): void;
  info(message: string, fields?: Fields): void;
  warn(message: string, fields?: Fields): void;
  error(message: string, fields?: Fields): void;
  /** A logger whose every line also carries `keys`; built on first use, so free when nothing logs. */
  child(keys: Fields): Log;
}

/** Errors become {name, message, stack} (the stack stays in the logs, never in responses). */
const withErrors = (fields: Fields = {}): Fields =>
  Object.fromEntries(
    Object.entries(fields).map(([key, value]) =>
      value instanceof Error ? [key, { name: value.name, message: value.message, stack: value.stack }] : [key, value],
    ),
  );

function wrap(logger: () => Logger): Log {
  return {
    debug: (message, fields) => logger().debug(message, withErrors(fields)),
    info: (message, fields) => logger().info(message, withErrors(fields)),
    warn: (message, fields) => logger().warn(message, withErrors(fields)),
    error: (message, fields) => logger().error(message, withErrors(fields)),
    child(keys) {
      let child: Logger | undefined;
      return wrap(() => (child ??= logger().createChild({ persistentKeys: keys as Record<string, string> })));
    },
  };
}

/** The root logger of a process (service "gpuaas"). */
export function createLogger(level: LogLevel): Log {
  const root = new Logger({ serviceName: "gpuaas", logLevel: level });
  return wrap(() => root);
}
