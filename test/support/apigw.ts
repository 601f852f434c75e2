/** API Gateway (HTTP API, payload 2.0) events for Lambda entry-point tests: one base event, and
 * each test spreads what it changes over it. */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";

export const baseEvent: APIGatewayProxyEventV2 = {
  version: "2.0",
  routeKey: "$default",
  rawPath: "/health",
  rawQueryString: "",
  headers: {
    accept: "application/json",
    host: "abc123.execute-api.us-east-1.amazonaws.com",
    "user-agent": "vitest",
    "x-forwarded-for": "203.0.113.7",
    "x-forwarded-proto": "https",
  },
  requestContext: {
    accountId: "123456789012",
    apiId: "abc123",
    domainName: "abc123.execute-api.us-east-1.amazonaws.com",
    domainPrefix: "abc123",
    http: { method: "GET", path: "/health", protocol: "HTTP/1.1", sourceIp: "203.0.113.7", userAgent: "vitest" },
    requestId: "req-1",
    routeKey: "$default",
    stage: "$default",
    time: "22/Nov/2025:18:00:00 +0000",
    timeEpoch: 1_763_834_400_000,
  },
  isBase64Encoded: false,
};

export interface EventOptions {
  query?: string;
  headers?: Record<string, string>;
  /** JSON-encoded unless a string. */
  body?: unknown;
  base64?: boolean;
}

/** The base event for `method path`, with overrides. */
export function apiEvent(method: string, path: string, opts: EventOptions = {}): APIGatewayProxyEventV2 {
  const text = opts.body === undefined ? undefined : typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
  return {
    ...baseEvent,
    rawPath: path,
    rawQueryString: opts.query ?? "",
    headers: {
      ...baseEvent.headers,
      ...(text !== undefined && typeof opts.body !== "string" ? { "content-type": "application/json" } : {}),
      ...opts.headers,
    },
    requestContext: { ...baseEvent.requestContext, http: { ...baseEvent.requestContext.http, method, path } },
    ...(text === undefined
      ? {}
      : { body: opts.base64 ? Buffer.from(text).toString("base64") : text, isBase64Encoded: Boolean(opts.base64) }),
  };
}

export const lambdaContext = {
  awsRequestId: "req-1",
  functionName: "gpuaas-test-Api",
  getRemainingTimeInMillis: () => 25_000,
} as Context;

// hono/aws-lambda declares its own event types (body: string | null); the wire shape is the same.
type Handler = (event: any, context: Context) => Promise<unknown>;

/** Invokes `handler`; returns status, parsed JSON body and lower-cased headers, like support/http's call(). */
export async function invoke(handler: Handler, event: APIGatewayProxyEventV2) {
  const result = (await handler(event, lambdaContext)) as APIGatewayProxyStructuredResultV2;
  const text = result.isBase64Encoded ? Buffer.from(result.body ?? "", "base64").toString() : (result.body ?? "");
  let body: any = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON */
  }
  const headers = Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]));
  return { status: result.statusCode ?? 200, body, headers, raw: result };
}
