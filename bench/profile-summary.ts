/** Summarises a V8 .cpuprofile (node --cpu-prof): self time by package/area and the top functions.
 * Run: npx tsx bench/profile-summary.ts <file.cpuprofile> */
import { readFileSync } from "node:fs";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** The area a frame belongs to, by its file. */
export function areaOf(url: string, fn: string): string {
  if (!url)
    return fn === "(garbage collector)"
      ? "GC"
      : fn === "(idle)"
        ? "idle"
        : fn === "(program)"
          ? "V8/native (program)"
          : `native ${fn || "(anonymous)"}`;
  const m = /node_modules\/(@[^/]+\/[^/]+|[^/]+)/.exec(url);
  if (m) {
    const pkg = m[1]!;
    if (pkg.startsWith("@aws-sdk/") || pkg.startsWith("@smithy/")) return "AWS SDK (@aws-sdk, @smithy)";
    return pkg;
  }
  if (url.startsWith("node:")) return `node core (${url.slice(5).split("/")[0]})`;
  const p = /packages\/(\w+)\/src\/([\w-]+)/.exec(url);
  if (p) return `ours: ${p[1]}/${p[2]}`;
  return url;
}

export function summarise(file: string, top = 15) {
  const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const idle = [...self].filter(([id]) => byId.get(id)!.callFrame.functionName === "(idle)").reduce((a, [, t]) => a + t, 0);
  const busy = total - idle;
  const areas = new Map<string, number>();
  const fns = new Map<string, number>();
  for (const [id, t] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === "(idle)") continue;
    const area = areaOf(url, functionName);
    areas.set(area, (areas.get(area) ?? 0) + t);
    const key = `${functionName || "(anonymous)"} ${url.replace(/^.*node_modules\//, "").replace(/^file:\/\/.*\/packages\//, "packages/")}:${lineNumber + 1}`;
    fns.set(key, (fns.get(key) ?? 0) + t);
  }
  const pct = (t: number) => `${((100 * t) / busy).toFixed(1)} %`;
  return {
    wallSeconds: (profile.endTime - profile.startTime) / 1e6,
    busySeconds: busy / 1e6,
    areas: [...areas]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([area, t]) => ({ area, "share of busy CPU": pct(t), ms: (t / 1000).toFixed(0) })),
    functions: [...fns]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([fn, t]) => ({ function: fn, "share of busy CPU": pct(t) })),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const s = summarise(process.argv[2]!, Number(process.argv[3] ?? 20));
  console.log(`wall ${s.wallSeconds.toFixed(1)} s, busy (not idle) ${s.busySeconds.toFixed(1)} s`);
  console.table(s.areas);
  console.table(s.functions);
}
