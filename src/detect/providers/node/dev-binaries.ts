import type { DetectContext } from "../../context.ts";

export interface DevBinary {
  bin: string;
  /** The devDependency that provides it. */
  from: string;
}

// Binaries whose package has another name; any other binary is looked up under its own name.
const KNOWN_BINS: Record<string, string> = {
  nest: "@nestjs/cli", tsc: "typescript", tsnd: "ts-node-dev", "babel-node": "@babel/node", nuxi: "nuxt",
  "remix-serve": "@remix-run/serve", "react-router-serve": "@react-router/serve", dotenv: "dotenv-cli",
  "pm2-runtime": "pm2", sirv: "sirv-cli", strapi: "@strapi/strapi", "svelte-kit": "@sveltejs/kit", ng: "@angular/cli",
};
const MANAGERS = new Set(["npm", "pnpm", "yarn", "bun"]);
// The Node image has these on PATH whatever the app installs: a devDependency that also ships
// one (the npm `node` package pins a Node binary for tooling) is shadowed, not needed, at run time.
const IMAGE_BINS = new Set(["node", "npm", "npx", "corepack"]);
// Run the next word as a binary.
const RUNNERS = new Set(["npx", "pnpx", "bunx", "exec", "nohup", "env", "time"]);
// Binaries themselves, which then run the command that follows them.
const WRAPPERS = new Set(["cross-env", "env-cmd", "dotenv"]);
const MAX_DEPTH = 4;
const MAX_STEPS = 256;

type Step = { script: string } | { bin: string };

/**
 * The binaries the start command runs, through the scripts it calls (and their pre/post
 * scripts) and wrappers such as npx or cross-env, that only a devDependency provides: after a
 * production prune they are gone, and the container would die with `nest: not found`.
 */
export async function devOnlyBinaries(ctx: DetectContext, pkg: Record<string, any>, command: string, lockfile: string | null): Promise<DevBinary[]> {
  const scripts: Record<string, unknown> = pkg.scripts && typeof pkg.scripts === "object" ? pkg.scripts : {};
  const bins = new Set<string>();
  const seen = new Set<string>();
  let work: string[] = [command];
  for (let depth = 0; depth <= MAX_DEPTH && work.length > 0; depth++) {
    const next: string[] = [];
    for (const text of work) {
      for (const step of steps(text, scripts).slice(0, MAX_STEPS)) {
        if ("bin" in step) bins.add(step.bin);
        else for (const name of [`pre${step.script}`, step.script, `post${step.script}`]) {
          if (typeof scripts[name] === "string" && !seen.has(name)) {
            seen.add(name);
            next.push(scripts[name] as string);
          }
        }
      }
    }
    work = next;
  }
  const fromLock = await lockfileBins(ctx, lockfile);
  const out: DevBinary[] = [];
  for (const bin of bins) {
    if (IMAGE_BINS.has(bin)) continue;
    const dev = devProvider(bin, pkg, fromLock.get(bin));
    if (dev) out.push({ bin, from: dev });
  }
  return out;
}

/** The devDependency that provides `bin`, when no production dependency does. */
function devProvider(bin: string, pkg: Record<string, any>, locked: { name: string; dev: boolean }[] | undefined): string | null {
  if (locked && locked.length > 0) return locked.every((p) => p.dev) ? locked[0]!.name : null;
  const names = [KNOWN_BINS[bin], bin].filter((n): n is string => Boolean(n));
  const has = (field: string) => names.find((n) => Object.hasOwn(pkg[field] ?? {}, n));
  if (has("dependencies") || has("optionalDependencies")) return null;
  return has("devDependencies") ?? null;
}

/** What a command runs: the scripts it calls and the binaries it starts, segment by segment. */
function steps(command: string, scripts: Record<string, unknown>): Step[] {
  const out: Step[] = [];
  for (const segment of command.split(/[;&|]+/)) {
    const words = segment.trim().split(/\s+/).filter(Boolean);
    for (let i = 0; i < words.length; ) {
      const w = words[i]!;
      if (w.startsWith("-") || isAssignment(w)) { i++; continue; }
      if (MANAGERS.has(w)) {
        const step = managerStep(w, words.slice(i + 1), scripts);
        if (step === "exec") { i += 2; continue; }
        if (step) out.push(step);
        break;
      }
      if (RUNNERS.has(w)) { i++; continue; }
      out.push({ bin: w });
      if (!WRAPPERS.has(w)) break;
      i++;
    }
  }
  return out;
}

/** `npm start`, `npm run x`, `pnpm x`, `yarn x`, `bun run x`: a script, a binary, or "exec" (the next word is a binary). */
function managerStep(manager: string, rest: string[], scripts: Record<string, unknown>): Step | "exec" | null {
  const [sub, name] = rest;
  if (!sub) return null;
  if (sub === "exec" || sub === "x" || sub === "dlx") return "exec";
  if (sub === "start" || sub === "test") return { script: sub };
  if (sub === "run" || sub === "run-script") return name ? (typeof scripts[name] === "string" ? { script: name } : { bin: name }) : null;
  if (manager === "npm") return null;
  return typeof scripts[sub] === "string" ? { script: sub } : { bin: sub };
}

function isAssignment(word: string): boolean {
  const eq = word.indexOf("=");
  return eq > 0 && /^[A-Za-z_][A-Za-z0-9_]*$/.test(word.slice(0, eq));
}

/** package-lock.json's top-level packages: which binaries each provides and whether only dev needs it. */
async function lockfileBins(ctx: DetectContext, lockfile: string | null): Promise<Map<string, { name: string; dev: boolean }[]>> {
  const out = new Map<string, { name: string; dev: boolean }[]>();
  if (lockfile !== "package-lock.json" && lockfile !== "npm-shrinkwrap.json") return out;
  const lock = await ctx.readJson(lockfile).catch(() => null);
  const packages = lock?.packages && typeof lock.packages === "object" ? (lock.packages as Record<string, any>) : {};
  for (const [key, entry] of Object.entries(packages)) {
    if (!key.startsWith("node_modules/") || key.includes("/node_modules/", 1) || !entry?.bin || typeof entry.bin !== "object") continue;
    const name = key.slice("node_modules/".length);
    for (const bin of Object.keys(entry.bin)) out.set(bin, [...(out.get(bin) ?? []), { name, dev: entry.dev === true }]);
  }
  return out;
}
