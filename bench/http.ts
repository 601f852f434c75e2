/** A small keep-alive HTTP/1.1 JSON client (node:http, as the AWS SDK's own handler uses), so the
 * API and the raw DynamoDB client pay the same kind of client cost. */
import { Agent, request } from "node:http";

const agent = new Agent({ keepAlive: true, maxSockets: 256 });

export interface Reply {
  status: number;
  body: any;
}

export async function call(url: string, method: string, path: string, token?: string, body?: unknown): Promise<Reply> {
  try {
    return await send(url, method, path, token, body);
  } catch (error) {
    // A kept-alive socket the server closed as idle just as we reused it: Node's advice is to retry.
    if ((error as { retryable?: boolean }).retryable) return send(url, method, path, token, body);
    throw error;
  }
}

function send(url: string, method: string, path: string, token?: string, body?: unknown): Promise<Reply> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}${path}`,
      {
        method,
        agent,
        headers: {
          ...(payload ? { "content-type": "application/json", "content-length": Buffer.byteLength(payload) } : {}),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString();
          resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : undefined });
        });
        res.on("error", reject);
      },
    );
    req.on("error", (error: NodeJS.ErrnoException) =>
      reject(Object.assign(error, { retryable: req.reusedSocket && error.code === "ECONNRESET" })),
    );
    req.end(payload);
  });
}

export function expect(reply: Reply, status: number, what: string): any {
  if (reply.status !== status) throw new Error(`${what}: expected ${status}, got ${reply.status} ${JSON.stringify(reply.body)}`);
  return reply.body;
}

export const closeHttp = () => agent.destroy();
