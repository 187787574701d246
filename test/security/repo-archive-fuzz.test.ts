import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { performance } from "node:perf_hooks";
import { list } from "tar";
import { createSourceArchive } from "../../src/source/archive.ts";
import { isMicroshipError } from "../../src/core/errors.ts";
import { mulberry32 } from "../helpers/mulberry32.ts";

/**
 * The archive builder against random trees with random links (relative, absolute, chains, loops,
 * dangling) and random names. Each call either refuses with a user error, or makes a tar in which
 * every link, unpacked anywhere under any name, resolves inside the unpacked tree; and each call
 * takes under a second. A seeded loop of our own: a failure prints its seed, and
 * FUZZ_SEED=<seed> replays it.
 */

const ITERATIONS = Number(process.env.FUZZ_ITERATIONS ?? 300);
const FIRST_SEED = Number(process.env.FUZZ_SEED ?? 0x5eed);

/** A seeded generator with the helpers the tree planter uses. */
function rng(seed: number) {
  const next = mulberry32(seed);
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, pick: <T>(xs: readonly T[]): T => xs[int(xs.length)]! };
}

const NAME_PARTS = ["a", "b", "src", "lib", "Dockerfile", ".dockerignore", "node_modules", "-rf", " space", "ünï", "日本", "e\u0301", ".hidden", "x.y", "..a", "a..", "tab\there", "d"];

/** A random tree: directories, files and links whose targets mix real names, `.`, `..` and absolute paths. */
function plant(dir: string, outside: string, r: ReturnType<typeof rng>): void {
  const dirs = [""];
  const names: string[] = [];
  const fresh = (under: string) => {
    for (;;) {
      const name = r.pick(NAME_PARTS) + (r.next() < 0.5 ? String(r.int(9)) : "");
      const rel = under ? `${under}/${name}` : name;
      if (!names.includes(rel) && !dirs.includes(rel)) return rel;
    }
  };
  const entries = 4 + r.int(16);
  // Some trees are tame (few `..` or absolute targets), some wild: both outcomes get exercised.
  const wild = r.next() < 0.5 ? 0.03 : 0.3;
  for (let i = 0; i < entries; i++) {
    const under = r.pick(dirs);
    const rel = fresh(under);
    const kind = r.next();
    if (kind < 0.2 && rel.split("/").length < 4) {
      mkdirSync(join(dir, rel));
      dirs.push(rel);
    } else if (kind < 0.5) {
      writeFileSync(join(dir, rel), `content of ${rel}`);
      names.push(rel);
    } else {
      symlinkSync(target(r, [...dirs.filter(Boolean), ...names], outside, wild, rel.split("/").length - 1), join(dir, rel));
      names.push(rel);
    }
  }
}

function target(r: ReturnType<typeof rng>, known: string[], outside: string, wild: number, depth: number): string {
  const roll = r.next();
  if (roll < wild / 3) return r.pick([join(outside, "secret"), "/etc/hostname", "/", "/proc/self/environ", "/dev/zero"]);
  // Tame links climb back to the root, then name something that is there.
  const parts: string[] = r.next() < 0.7 ? Array(depth).fill("..") : [];
  if (wild < 0.1 && known.length) return [...parts, r.pick(known)].join("/");
  const n = 1 + r.int(4);
  for (let i = 0; i < n; i++) {
    const c = r.next();
    if (c < wild) parts.push("..");
    else if (c < wild + 0.1) parts.push(".");
    else if (c < 0.95 && known.length) parts.push(...r.pick(known).split("/"));
    else parts.push(r.pick(["nowhere", "missing", "d", "x"]));
  }
  return parts.join("/");
}

/** Unpacks the archive under `at` and returns, per link, where it really leads from the unpacked root. */
function unpackAndResolve(archive: string, at: string): Map<string, string> {
  mkdirSync(at, { recursive: true });
  execFileSync("tar", ["-xzf", archive, "-C", at]);
  const root = realpathSync(at);
  const links = new Map<string, string>();
  for (const path of symlinkPaths(archive)) {
    const real = realpathSync(join(at, path));
    const rel = relative(root, real);
    assert.ok(rel !== ".." && !rel.startsWith("../") && !rel.startsWith("/"), `${path} resolves to ${real}, outside ${root}`);
    links.set(path, rel);
  }
  return links;
}

const linkCache = new Map<string, string[]>();
function symlinkPaths(archive: string): string[] {
  return linkCache.get(archive) ?? [];
}

async function listLinks(archive: string): Promise<string[]> {
  const paths: string[] = [];
  await list({ file: archive, onReadEntry: (e) => void (e.type === "SymbolicLink" && paths.push(e.path)) });
  linkCache.set(archive, paths);
  return paths;
}

test(`${ITERATIONS} random trees with random links: a user error, or a tar whose every link stays inside wherever it is unpacked; each under 1 s`, { timeout: 300_000 }, async (t) => {
  const base = mkdtempSync(join(tmpdir(), "ms-sec-fuzz-"));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const outside = join(base, "outside");
  mkdirSync(outside);
  writeFileSync(join(outside, "secret"), "host secret");
  let refused = 0;
  let archived = 0;
  let linksChecked = 0;
  let slowest = 0;
  const reasons = new Map<string, number>();
  for (let i = 0; i < ITERATIONS; i++) {
    const seed = FIRST_SEED + i;
    const r = rng(seed);
    const case_ = join(base, String(seed));
    const dir = join(case_, "repo", "app");
    mkdirSync(dir, { recursive: true });
    plant(dir, outside, r);
    const out = join(case_, "out.tgz");
    const t0 = performance.now();
    const result = await createSourceArchive(dir, { outPath: out, dockerfile: r.next() < 0.5 ? "FROM x\n" : null }).then(() => null, (e: unknown) => e);
    const ms = performance.now() - t0;
    slowest = Math.max(slowest, ms);
    assert.ok(ms < 1_000, `seed ${seed}: ${ms} ms`);
    if (result !== null) {
      assert.ok(isMicroshipError(result) && result.kind === "user", `seed ${seed}: not a user error: ${String(result)}`);
      refused++;
      reasons.set(result.title ?? "", (reasons.get(result.title ?? "") ?? 0) + 1);
    } else {
      archived++;
      const links = await listLinks(out);
      // Two places, two names, two depths: a link that leans on the root's name or depth differs.
      const a = unpackAndResolve(out, join(case_, "x1", "ctx"));
      const b = unpackAndResolve(out, join(case_, "p", "q", "r", "other"));
      for (const l of links) assert.equal(a.get(l), b.get(l), `seed ${seed}: ${l} leads elsewhere depending on where it is unpacked`);
      linksChecked += links.length;
    }
    rmSync(case_, { recursive: true, force: true });
  }
  t.diagnostic(`refused ${refused} (${[...reasons].map(([k, v]) => `${k}: ${v}`).join(", ")}), archived ${archived}, links checked ${linksChecked}, slowest ${Math.round(slowest)} ms`);
  // The generator must exercise both outcomes, or the test proves little.
  assert.ok(refused > ITERATIONS / 10 && archived > ITERATIONS / 10 && linksChecked > 20, `refused ${refused}, archived ${archived}, links ${linksChecked}`);
});
