/** The shape of packages/core, read from its own import lines (SPEC §10, docs/architecture.md):
 * no file imports itself back through others; every file imports only its own layer or the ones
 * below it — base ← entities ← views ← commands ← reactions ← surface — and only the adapters
 * (functions, local) run the reactions; core never imports the HTTP framework, the Lambda runtime or
 * an adapter. And the packages' surfaces: a package imports another only through the entry points
 * its package.json exports (core has at most 8), no core module imports a surface, and tests live in
 * test/ only (docs/architecture.md "Package surfaces" and "Tests"). */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "..");
const CORE = join(ROOT, "packages/core/src");

const LAYERS = ["base", "entities", "views", "commands", "reactions", "surface"] as const;
type Layer = (typeof LAYERS)[number];

/** Modules every other part stands on: storage, configuration, catalog, events, outbound calls. */
const BASE = /^(db|util|aws|catalog|config|event|idempotency)\/|^(errors|log)\.ts$/;
/** An entity's items, keys, pure rules and access patterns (its folder's store and model), the
 * caller's identity, and the Core handle with its workflow port (which speaks of job statuses). */
const ENTITY =
  /^(?!(db|idempotency)\/).*\/(store|keys)\.ts$|^(job\/job|job\/errors|job\/dependencies|org\/org|cluster\/cluster|quota\/quota|quota\/rate|user\/user|auth\/token|audit\/audit|cost\/usage|cost\/snapshot|core)\.ts$|^workflow\/|^admission\/(queue|capacity|plan|placement|snapshot)\.ts$/;
/** What clients read: views and the access checks they answer through. */
const VIEW = /\/(views|access|queries)\.ts$|^cost\/report\.ts$/;

function layerOf(file: string): Layer {
  if (file.startsWith("surface/")) return "surface";
  if (file.startsWith("reactions/")) return "reactions";
  if (ENTITY.test(file)) return "entities";
  if (BASE.test(file)) return "base";
  if (VIEW.test(file)) return "views";
  return "commands";
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts") ? [path] : [];
  });
}

/** Every module specifier a file imports or re-exports (type-only imports included: they tie modules too). */
function specifiers(path: string): string[] {
  const text = readFileSync(path, "utf8");
  return [...text.matchAll(/^\s*(?:import|export)\s[^;]*?\sfrom\s+"([^"]+)"/gms), ...text.matchAll(/^\s*import\s+"([^"]+)"/gm)].map(
    (m) => m[1]!,
  );
}

/** core's files (relative to src), each with the core files it imports and the packages it names. */
const graph = new Map(
  sources(CORE).map((path) => {
    const specs = specifiers(path);
    const local = specs.filter((s) => s.startsWith(".")).map((s) => `${relative(CORE, resolve(dirname(path), s))}.ts`);
    const packages = specs.filter((s) => !s.startsWith("."));
    return [relative(CORE, path), { local, packages }] as const;
  }),
);

describe("packages/core's layers", () => {
  it("reads every file and resolves every relative import to a file of core", () => {
    expect(graph.size).toBeGreaterThan(50);
    const unresolved = [...graph].flatMap(([file, { local }]) => local.filter((to) => !graph.has(to)).map((to) => `${file} -> ${to}`));
    expect(unresolved).toEqual([]);
  });

  it("has no import cycle", () => {
    const cycles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const visit = (file: string, path: string[]) => {
      if (state.get(file) === "done") return;
      if (state.get(file) === "open") {
        cycles.push([...path.slice(path.indexOf(file)), file].join(" -> "));
        return;
      }
      state.set(file, "open");
      for (const to of graph.get(file)?.local ?? []) visit(to, [...path, file]);
      state.set(file, "done");
    };
    for (const file of graph.keys()) visit(file, []);
    expect(cycles).toEqual([]);
  });

  it("imports only its own layer or lower ones: base <- entities <- views <- commands <- reactions <- surface", () => {
    const rank = (file: string) => LAYERS.indexOf(layerOf(file));
    const upward = [...graph].flatMap(([file, { local }]) =>
      local.filter((to) => rank(to) > rank(file)).map((to) => `${file} (${layerOf(file)}) -> ${to} (${layerOf(to)})`),
    );
    expect(upward).toEqual([]);
    // Each layer holds something, so the rule above cannot pass by classifying everything alike.
    const counts = Object.fromEntries(LAYERS.map((l) => [l, [...graph.keys()].filter((f) => layerOf(f) === l).length]));
    for (const layer of LAYERS) expect(counts[layer], layer).toBeGreaterThan(0);
  });

  it("never imports hono, the Lambda runtime's types or an adapter package", () => {
    const forbidden = /^(hono|@hono\/|aws-lambda|@types\/aws-lambda|@gpuaas\/(functions|local))/;
    const found = [...graph].flatMap(([file, { packages }]) => packages.filter((p) => forbidden.test(p)).map((p) => `${file} -> ${p}`));
    expect(found).toEqual([]);
  });
});

describe("the adapters", () => {
  it("are the only ones to run the reactions: no core file outside reactions/ imports them (but their surface)", () => {
    const inCore = [...graph].flatMap(([file, { local }]) =>
      file.startsWith("reactions/") || file === "surface/reactions.ts"
        ? []
        : local.filter((to) => to.startsWith("reactions/")).map((to) => `${file} -> ${to}`),
    );
    expect(inCore).toEqual([]);
    const adapters = ["packages/functions/src", "packages/local/src"].flatMap((dir) => sources(join(ROOT, dir)));
    const runners = adapters.filter((path) => specifiers(path).some((s) => s === "@gpuaas/core/reactions"));
    expect(runners.map((p) => relative(ROOT, p)).sort()).toEqual([
      "packages/functions/src/reactions/consumer.ts",
      "packages/local/src/reactor.ts",
    ]);
  });
});

/** Every source file of every package (tests included), relative to the repository. */
const PACKAGES = ["core", "functions", "local", "web"] as const;
const packageFiles = (pkg: string) => sources(join(ROOT, "packages", pkg)).map((p) => relative(ROOT, p));
const exportsOf = (pkg: string): string[] =>
  Object.keys(JSON.parse(readFileSync(join(ROOT, "packages", pkg, "package.json"), "utf8")).exports ?? {}).map((key) =>
    key === "." ? `@gpuaas/${pkg}` : `@gpuaas/${pkg}/${key.slice(2)}`,
  );

describe("the packages' surfaces", () => {
  it("name their entry points (no wildcard), core at most 8", () => {
    for (const pkg of PACKAGES)
      expect(
        exportsOf(pkg).filter((e) => e.includes("*")),
        pkg,
      ).toEqual([]);
    expect(exportsOf("core").length).toBeGreaterThan(1);
    expect(exportsOf("core").length).toBeLessThanOrEqual(8);
  });

  it("are all another package imports: no deep import across packages, no relative path into another package", () => {
    const allowed = new Set(PACKAGES.flatMap(exportsOf));
    const found = PACKAGES.flatMap((pkg) =>
      packageFiles(pkg).flatMap((file) =>
        specifiers(join(ROOT, file)).flatMap((spec) => {
          const intoOther = spec.startsWith(".") && !resolve(ROOT, dirname(file), spec).startsWith(join(ROOT, "packages", pkg, "/"));
          const deep = spec.startsWith("@gpuaas/") && !allowed.has(spec);
          return intoOther || deep ? [`${file} -> ${spec}`] : [];
        }),
      ),
    );
    expect(found).toEqual([]);
  });

  it("are not imported by core itself: surface/ re-exports, nothing in core depends on it", () => {
    const inward = [...graph].flatMap(([file, { local }]) =>
      file.startsWith("surface/") ? [] : local.filter((to) => to.startsWith("surface/")).map((to) => `${file} -> ${to}`),
    );
    expect(inward).toEqual([]);
    // Core names itself by its package name nowhere either (that would be a way round the rule above).
    const self = [...graph].flatMap(([file, { packages }]) =>
      packages.filter((p) => p.startsWith("@gpuaas/core")).map((p) => `${file} -> ${p}`),
    );
    expect(self).toEqual([]);
  });
});

describe("keys", () => {
  it("are built only in an entity's keys.ts: no key attribute from a template elsewhere in core", () => {
    const built = /\b(pk|sk|gsi\d(pk|sk))\s*:\s*`[^`]*\$\{/;
    const outside = sources(CORE)
      .filter((path) => !path.endsWith("/keys.ts") && built.test(readFileSync(path, "utf8")))
      .map((path) => relative(CORE, path));
    expect(outside).toEqual([]);
    // db/ holds none: each entity's keys are in its own folder.
    expect(sources(join(CORE, "db")).filter((path) => path.endsWith("/keys.ts"))).toEqual([]);
    expect(sources(CORE).filter((path) => path.endsWith("/keys.ts")).length).toBeGreaterThanOrEqual(8);
  });
});

describe("the tests", () => {
  it("live in test/ only: no test file under packages/", () => {
    const misplaced = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) return entry.name === "node_modules" ? [] : misplaced(path);
        return entry.name.endsWith(".test.ts") ? [relative(ROOT, path)] : [];
      });
    expect(misplaced(join(ROOT, "packages"))).toEqual([]);
  });
});
