import { posix } from "node:path";
import { parse as parseYaml } from "yaml";
import type { DetectContext } from "../../context.ts";
import { safeExists } from "../../../source/safe-read.ts";

export const COMPOSE_FILES = ["compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml"];
/** A compose file is small; past this it is not one worth parsing. */
export const COMPOSE_MAX_BYTES = 256 * 1024;
// An alias bomb (`a: &a [*b, *b, ...]`) expands exponentially; yaml stops at this many aliases.
const MAX_ALIASES = 32;
const MAX_SERVICES = 64;
const MAX_PATH = 512;
const SERVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** One service's `build:`, with paths from the repo root, as compose resolves them. */
export interface ComposeBuild {
  service: string;
  /** The compose file, from the repo root. */
  file: string;
  /** The build context, from the repo root; not yet checked (see build-context.ts). */
  context: string;
  /** The Dockerfile, from the repo root; compose resolves it from the context. */
  dockerfile: string;
}

/**
 * The `build:` of each service of the app root's compose file (the first of COMPOSE_FILES).
 * A file that doesn't parse, or a service whose build is remote (a git URL), inline
 * (`dockerfile_inline`) or absolute, is passed over: compose is the user's dev tool, not a
 * config of ours, so it only adds a way to build, it never fails one.
 */
export async function composeBuilds(ctx: DetectContext): Promise<ComposeBuild[]> {
  for (const name of COMPOSE_FILES) {
    const file = posix.join(ctx.root, name);
    const text = await ctx.readAtRepoRoot(file, COMPOSE_MAX_BYTES);
    if (text === null) continue;
    return buildsOf(parsed(text), file);
  }
  return [];
}

function parsed(text: string): unknown {
  try {
    return parseYaml(text, { maxAliasCount: MAX_ALIASES });
  } catch {
    return null;
  }
}

function buildsOf(doc: unknown, file: string): ComposeBuild[] {
  const services = isObject(doc) && isObject(doc.services) ? doc.services : {};
  const out: ComposeBuild[] = [];
  const dir = posix.dirname(file);
  for (const [service, svc] of Object.entries(services).slice(0, MAX_SERVICES)) {
    if (!SERVICE_NAME.test(service) || !isObject(svc)) continue;
    const build = typeof svc.build === "string" ? { context: svc.build } : svc.build;
    if (!isObject(build) || "dockerfile_inline" in build) continue;
    const context = build.context ?? ".";
    const dockerfile = build.dockerfile ?? "Dockerfile";
    if (!plainPath(context) || !plainPath(dockerfile)) continue;
    const contextPath = posix.join(dir, context);
    out.push({ service, file, context: contextPath, dockerfile: posix.join(contextPath, dockerfile) });
  }
  return out;
}

/** A relative path of plain characters: a URL (`https://...`, `git@host:x`) or `/abs` is not one. */
function plainPath(value: unknown): value is string {
  return typeof value === "string" && value.length > 0 && value.length <= MAX_PATH && /^[A-Za-z0-9._@+\/-]+$/.test(value) && !value.startsWith("/");
}

function isObject(v: unknown): v is Record<string, any> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * The one way to build the compose file gives: every service that builds uses the same context
 * and Dockerfile (a web and a worker from one image, say). Several different ones: no guess.
 * A development Dockerfile (`Dockerfile.dev`, `local.Dockerfile`) is not a production build,
 * and one that isn't there is the compose file's problem, not a reason to skip detection.
 */
export async function composeBuild(ctx: DetectContext): Promise<ComposeBuild | null> {
  const builds = await composeBuilds(ctx);
  if (builds.length === 0) return null;
  const first = builds[0]!;
  if (!builds.every((b) => b.context === first.context && b.dockerfile === first.dockerfile)) return null;
  if (forDevelopment(first.dockerfile)) return null;
  // One that climbs out is kept, so that the plan refuses it by name rather than detection passing it by.
  const escapes = first.context.startsWith("..") || first.dockerfile.startsWith("..");
  return escapes || (await safeExists(ctx.repoDir, first.dockerfile)) ? first : null;
}

const DEV_WORDS = new Set(["dev", "develop", "development", "local", "test", "debug"]);

/** Whether a Dockerfile's name says it is for development: a word of it, split at . - _. */
export function forDevelopment(dockerfile: string): boolean {
  return posix.basename(dockerfile).toLowerCase().split(/[._-]/).some((w) => DEV_WORDS.has(w));
}
