/** Keeps the process serving, and idle, when whoever reads its output goes away (`npm start | head`,
 * a parent that exits). Node reports a failed write to stdout/stderr as an 'error' event on the stream;
 * with no listener that is an uncaught exception, whose report is one more failed write, and so on
 * forever. Here the first error marks the stream closed and every later write to it is dropped, by
 * whatever writer: console.*, or a logger with its own node:console Console on the same stream. */

const closed = new Set<NodeJS.WriteStream>();
let guarded = false;

export function guardProcessOutput(): void {
  if (guarded) return;
  guarded = true;
  for (const stream of [process.stdout, process.stderr]) {
    // Any write error means the output is unusable: EPIPE when the reader is gone, EIO when the terminal is.
    stream.on("error", () => markClosed(stream));
  }
}

function markClosed(stream: NodeJS.WriteStream) {
  if (closed.has(stream)) return;
  closed.add(stream);
  stream.write = dropWrite as NodeJS.WriteStream["write"];
}

/** A write to a closed stream: nothing is written, but the writer's callback still runs. */
function dropWrite(_chunk: unknown, encoding?: unknown, callback?: unknown): boolean {
  const done = typeof encoding === "function" ? encoding : callback;
  if (typeof done === "function") process.nextTick(done as () => void);
  return true;
}
