/** The local API server: the Hono app on Node's http.Server through @hono/node-server, behind a body
 * guard, with timeouts and a close that never waits for long.
 *
 * In AWS, API Gateway buffers each body and hono's bodyLimit answers 413 past MAX_BODY_BYTES. Here
 * @hono/node-server reads the socket itself, and an oversized body left unread (it drains for at most
 * 500 ms) or cut short (bodyLimit cancelling a chunked body destroys the socket) resets the
 * connection: the client got a socket error instead of the 413. So every body is read at the Node
 * level first: within the limit it reaches hono whole (as `rawBody`); past it, it is read to its end
 * and discarded and the 413 goes out on a connection that stays usable. */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { clientRequestId, errorBody, MAX_BODY_BYTES } from "@gpuaas/functions";
import { getRequestListener } from "@hono/node-server";

/** Past this much, an oversized body is no longer read: the 413 goes out with Connection: close. */
const MAX_DRAIN_BYTES = 64 * 1024 * 1024;

/** Time for a client to send its headers, then its whole request; and how long an idle keep-alive
 * connection stays open. */
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 30_000;
const KEEP_ALIVE_TIMEOUT_MS = 5_000;

type FetchCallback = Parameters<typeof getRequestListener>[0];
type Listener = (req: IncomingMessage, res: ServerResponse) => void;

/** @hono/node-server takes a Buffer `rawBody` on the request as its complete body. */
type WithRawBody = IncomingMessage & { rawBody?: Buffer };

type BodyRead = { kind: "complete"; body: Buffer } | { kind: "too-large"; drained: boolean } | { kind: "aborted" };

export function createLocalServer(fetch: FetchCallback, maxBodyBytes = MAX_BODY_BYTES): Server {
  const app = getRequestListener(fetch);
  const guarded: Listener = (req, res) => void guardBody(req, res, app, maxBodyBytes);
  const server = createServer({ headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS }, guarded);
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  // `Expect: 100-continue`: refuse an oversized body before the client sends it.
  server.on("checkContinue", (req: IncomingMessage, res: ServerResponse) => {
    if (declaredLength(req) > maxBodyBytes) return payloadTooLarge(req, res, maxBodyBytes, { close: true });
    res.writeContinue();
    guarded(req, res);
  });
  return server;
}

/** Listens on `port` (0: any free one) and resolves with the port it got. */
export function listen(server: Server, port: number, hostname: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, hostname, () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Stops accepting connections and resolves once all are closed: idle keep-alive ones at once, those
 * with a request in progress after `graceMs` at the latest. */
export function closeServer(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    const cutoff = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close(() => {
      clearTimeout(cutoff);
      resolve();
    });
    server.closeIdleConnections();
  });
}

async function guardBody(req: IncomingMessage, res: ServerResponse, app: Listener, maxBodyBytes: number) {
  if (req.method === "GET" || req.method === "HEAD") return app(req, res);
  const read = await readBody(req, maxBodyBytes);
  if (read.kind === "complete") {
    (req as WithRawBody).rawBody = read.body;
    return app(req, res);
  }
  // An aborted request has nobody left to answer.
  if (read.kind === "too-large") payloadTooLarge(req, res, maxBodyBytes, { close: !read.drained });
}

/** Reads the body up to `maxBytes`; past that, reads on and discards (up to MAX_DRAIN_BYTES) so the
 * connection can carry the answer and the next request. */
function readBody(req: IncomingMessage, maxBytes: number): Promise<BodyRead> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let tooLarge = declaredLength(req) > maxBytes;
    let settled = false;
    const settle = (read: BodyRead) => {
      if (settled) return;
      settled = true;
      resolve(read);
    };
    req.on("data", (chunk: Buffer) => {
      received += chunk.length;
      if (received > maxBytes && !tooLarge) {
        tooLarge = true;
        chunks.length = 0;
      }
      if (!tooLarge) chunks.push(chunk);
      else if (received > MAX_DRAIN_BYTES) settle({ kind: "too-large", drained: false });
    });
    req.once("end", () =>
      settle(tooLarge ? { kind: "too-large", drained: true } : { kind: "complete", body: Buffer.concat(chunks, received) }),
    );
    req.once("error", () => settle({ kind: "aborted" }));
    req.once("close", () => settle({ kind: "aborted" }));
  });
}

function declaredLength(req: IncomingMessage): number {
  return Number(req.headers["content-length"] ?? 0);
}

/** The app's own 413 (same body, and request id, as the app's bodyLimit answers with in AWS). */
function payloadTooLarge(req: IncomingMessage, res: ServerResponse, maxBodyBytes: number, { close }: { close: boolean }) {
  const body = JSON.stringify(errorBody("PAYLOAD_TOO_LARGE", `Request body exceeds ${maxBodyBytes} bytes`));
  const sent = req.headers["x-request-id"];
  res.writeHead(413, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
    "x-request-id": clientRequestId(typeof sent === "string" ? sent : undefined) ?? randomUUID(),
    ...(close ? { connection: "close" } : {}),
  });
  res.end(body);
}
