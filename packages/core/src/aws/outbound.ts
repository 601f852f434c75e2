/** Every outbound AWS client (DynamoDB, Step Functions, later EventBridge) is built with the same
 * connection and request timeouts and a bounded number of attempts, and turns "the service is not
 * answering" into ONE typed domain error at the client itself, so no caller can miss the mapping. */
import { DependencyUnavailableError } from "../errors";

export interface OutboundSettings {
  /** Milliseconds to establish a TCP connection. */
  connectTimeoutMs: number;
  /** Milliseconds for one attempt, from sending the request to the full response. */
  requestTimeoutMs: number;
  /** Attempts per call, the first included (the SDK's standard retry strategy, with backoff). */
  maxAttempts: number;
}

/** The part of an AWS SDK v3 client config that bounds how long a call can take. */
export function outboundClientConfig(settings: OutboundSettings) {
  return {
    maxAttempts: settings.maxAttempts,
    requestHandler: {
      connectionTimeout: settings.connectTimeoutMs,
      requestTimeout: settings.requestTimeoutMs,
      // Without this, @smithy/node-http-handler only warns when requestTimeout passes.
      throwOnRequestTimeout: true,
    },
  };
}

/** Socket-level failures: the service is down, unreachable or cut the connection. */
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/** Service answers that mean "not now" rather than "no": throttling and server-side failures. */
const UNAVAILABLE_NAMES = new Set([
  "TimeoutError",
  "ThrottlingException",
  "ProvisionedThroughputExceededException",
  "RequestLimitExceeded",
  "InternalServerError",
  "ServiceUnavailable",
  "ServiceUnavailableException",
]);

/** True when `error` says the dependency did not answer (as opposed to answering "no"). */
export function isUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const { code, $metadata } = error as { code?: string; $metadata?: { httpStatusCode?: number } };
  if (UNAVAILABLE_NAMES.has(error.name) || (code !== undefined && NETWORK_CODES.has(code))) return true;
  const status = $metadata?.httpStatusCode;
  return status !== undefined && status >= 500;
}

/** An AWS SDK v3 client, as far as adding a middleware goes (also the local stack's lanes). */
export interface MiddlewareClient {
  middlewareStack: {
    // biome-ignore lint/suspicious/noExplicitAny: the SDK's middleware types differ per client and command
    add(middleware: (next: (args: any) => Promise<any>) => (args: any) => Promise<any>, options: object): void;
  };
}

/**
 * Makes every call through `client` (and through document clients built on it, which share its
 * middleware stack) throw DependencyUnavailableError, naming `dependency`, once its attempts are
 * spent on timeouts, refused connections, throttling or 5xx. Other errors pass through untouched.
 */
export function mapUnavailableErrors<C extends MiddlewareClient>(client: C, dependency: string): C {
  client.middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        if (isUnavailable(error)) throw new DependencyUnavailableError(dependency, { cause: error });
        throw error;
      }
    },
    // The outermost step, so it sees the error after the retry strategy has given up.
    { step: "initialize", name: "mapUnavailableErrors", priority: "high" },
  );
  return client;
}
