import { posix } from "node:path";
import { parse as parseToml } from "smol-toml";
import { parse as parseYaml } from "yaml";
import type { DetectContext } from "./context.ts";

/** Another platform's config is small; past this it's not one worth parsing for a start command. */
export const PLATFORM_FILE_MAX_BYTES = 256 * 1024;
const MAX_COMMAND = 2048;

export interface PlatformStart {
  command: string;
  /** Which file and key said it, for the detection story. */
  source: string;
}

type Reader = (ctx: DetectContext) => Promise<PlatformStart | null>;

/**
 * The start command another host's config gives (nixpacks.toml, railway.json or .toml,
 * render.yaml): the user wrote it for the same job, so it counts like a Procfile line. A file
 * that doesn't parse, or whose command isn't one line of text, is someone else's business and
 * is passed over; read errors (a link out of the repository, a file over the cap) are not.
 */
export async function platformStart(ctx: DetectContext): Promise<PlatformStart | null> {
  for (const reader of READERS) {
    const found = await reader(ctx);
    if (found) return found;
  }
  return null;
}

const READERS: Reader[] = [
  async (ctx) => pick(parsed(await appFile(ctx, "nixpacks.toml"), parseToml), ["start", "cmd"], `\`[start] cmd\` in ${ctx.rel("nixpacks.toml")}`),
  async (ctx) => pick(parsed(await appFile(ctx, "railway.json"), JSON.parse), ["deploy", "startCommand"], `\`deploy.startCommand\` in ${ctx.rel("railway.json")}`),
  async (ctx) => pick(parsed(await appFile(ctx, "railway.toml"), parseToml), ["deploy", "startCommand"], `\`[deploy] startCommand\` in ${ctx.rel("railway.toml")}`),
  renderStart,
];

/** render.yaml sits at the repository's root and lists services; the web service whose rootDir is this app's. */
async function renderStart(ctx: DetectContext): Promise<PlatformStart | null> {
  const doc = parsed(await ctx.readAtRepoRoot("render.yaml", PLATFORM_FILE_MAX_BYTES), (t) => parseYaml(t, { maxAliasCount: 16 }));
  const services: unknown[] = Array.isArray(doc?.services) ? doc.services.slice(0, 64) : [];
  const root = posix.normalize(ctx.root).replace(/\/+$/, "");
  const mine = services.filter((s): s is Record<string, any> => {
    if (!s || typeof s !== "object") return false;
    const svc = s as Record<string, any>;
    const dir = typeof svc.rootDir === "string" ? posix.normalize(svc.rootDir).replace(/^\.\/|\/+$/g, "") || "." : ".";
    return svc.type === "web" && dir === root && typeof svc.startCommand === "string";
  });
  if (mine.length !== 1) return null;
  const name = typeof mine[0]!.name === "string" ? ` (service \`${mine[0]!.name.slice(0, 64)}\`)` : "";
  return pick(mine[0]!, ["startCommand"], `\`startCommand\`${name} in render.yaml`);
}

function appFile(ctx: DetectContext, file: string): Promise<string | null> {
  return ctx.readAtRepoRoot(posix.join(ctx.root, file), PLATFORM_FILE_MAX_BYTES);
}

function parsed(text: string | null, parse: (text: string) => unknown): Record<string, any> | null {
  if (text === null) return null;
  try {
    const value = parse(text);
    return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, any>) : null;
  } catch {
    return null;
  }
}

function pick(doc: Record<string, any> | null, path: string[], source: string): PlatformStart | null {
  let value: unknown = doc;
  for (const key of path) value = value && typeof value === "object" && Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined;
  if (typeof value !== "string") return null;
  const command = value.trim();
  if (!command || command.length > MAX_COMMAND || /[\u0000-\u001f\u007f]/.test(command)) return null;
  return { command, source };
}
