/**
 * Runs every test file in two lanes at once, each lane one file at a time.
 *
 * The heavy lane holds what keeps the CPUs busy: real image builds (anything that prepares the
 * shared base images), TCG microVMs, and the memory test. The light lane holds the rest: unit
 * tests and tests whose time goes mostly to waiting (GitHub's write spacing, leases, health
 * polls), so they cost little wall time beside the builds. Only the heavy lane touches the
 * shared test cache's locks, and no test binds a fixed port, so the lanes don't collide.
 *
 *   node scripts/test-lanes.ts             both lanes; fails if either fails
 *   MICROSHIP_TEST_LANES=1 node scripts/test-lanes.ts   one lane, every file in turn (as before)
 *   node scripts/test-lanes.ts --list      which file runs in which lane
 *
 * Each output line carries its lane's name; a summary per lane comes last.
 */
import { spawn } from "node:child_process";
import { globSync, readFileSync } from "node:fs";
import { createInterface } from "node:readline";

// Whole folders of real builds and VM boots.
const HEAVY_DIRS = [/^test\/e2e\//, /^test\/integration\/builder-[^/]+\//];
// A file that prepares the shared base images builds images for real.
const HEAVY_IMPORTS = /helpers\/(base-images|host-build-world)\.ts/;
// Measures its own memory: kept beside nothing but one build at a time, as it always ran.
const HEAVY_FILES = new Set(["test/security/rss-under-attack.test.ts"]);

const NODE_TEST = ["--test", "--test-concurrency=1", "--test-force-exit", "--test-timeout=900000", "--test-reporter=spec"];

interface Lane {
  name: string;
  files: string[];
}

function lanes(): Lane[] {
  const files = globSync("test/**/*.test.ts").map((f) => f.split("\\").join("/")).sort();
  if (process.env.MICROSHIP_TEST_LANES === "1") return [{ name: "all", files }];
  const heavy = (f: string) => HEAVY_DIRS.some((d) => d.test(f)) || HEAVY_FILES.has(f) || HEAVY_IMPORTS.test(readFileSync(f, "utf8"));
  return [
    { name: "heavy", files: files.filter(heavy) },
    { name: "light", files: files.filter((f) => !heavy(f)) },
  ];
}

function run(lane: Lane, width: number): Promise<{ lane: Lane; code: number; ms: number; summary: string[] }> {
  const t0 = Date.now();
  const prefix = `[${lane.name.padEnd(width)}] `;
  const child = spawn(process.execPath, [...NODE_TEST, ...lane.files], { stdio: ["ignore", "pipe", "pipe"] });
  const summary: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream, crlfDelay: Infinity }).on("line", (line) => {
      if (/^ℹ (tests|pass|fail|cancelled|duration_ms) /.test(line)) summary.push(line.slice(2));
      process.stdout.write(`${prefix}${line}\n`);
    });
  }
  for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => child.kill(sig));
  return new Promise((resolve) => {
    child.on("close", (code, signal) => resolve({ lane, code: code ?? (signal ? 1 : 0), ms: Date.now() - t0, summary }));
  });
}

const all = lanes();
if (process.argv.includes("--list")) {
  for (const l of all) for (const f of l.files) console.log(`${l.name}\t${f}`);
  process.exit(0);
}
const width = Math.max(...all.map((l) => l.name.length));
console.log(all.map((l) => `${l.name} lane: ${l.files.length} files`).join("; "));
const results = await Promise.all(all.map((l) => run(l, width)));
console.log("");
for (const r of results) {
  console.log(`${r.lane.name} lane: ${r.code === 0 ? "passed" : `FAILED (exit ${r.code})`} in ${(r.ms / 60_000).toFixed(1)} min; ${r.summary.join(", ")}`);
}
process.exit(results.every((r) => r.code === 0) ? 0 : 1);
