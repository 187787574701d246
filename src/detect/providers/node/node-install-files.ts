import type { DetectContext } from "../../context.ts";
import { userError } from "../../../core/errors.ts";
import { referencedPath } from "../../referenced-path.ts";
import { inBuildContext } from "../../in-build-context.ts";
import type { NodePm } from "./package-manager.ts";

/**
 * What the install reads besides package.json and the lockfile, so it is copied into the
 * dependency layer before the install runs: the managers' own config (.npmrc, .yarnrc,
 * .yarnrc.yml and the Yarn release its `yarnPath` names, Yarn plugins, .pnpmfile.cjs) and the
 * patches that patch-package, pnpm's patchedDependencies and Yarn's `patch:` apply. A path
 * ending in `/` is a directory. What the .dockerignore leaves out of the build is not copied.
 */
export async function nodeInstallFiles(ctx: DetectContext, pkg: Record<string, any>, pm: NodePm): Promise<string[]> {
  const files = ["package.json", pm.lockfile, ".npmrc"];
  if (pm.name === "yarn") files.push(".yarnrc");
  if (pm.berry) files.push(".yarnrc.yml", await yarnPath(ctx), ".yarn/plugins/", ".yarn/patches/");
  if (pm.name === "pnpm") files.push(".pnpmfile.cjs", ...pnpmPatches(ctx, pkg));
  files.push("patches/");
  const present: string[] = [];
  for (const f of files) if (f && !present.includes(f) && (await isA(ctx, f))) present.push(f);
  // A file inside a directory that is copied whole is copied with it.
  return inBuildContext(ctx, present.filter((f) => !present.some((d) => d !== f && d.endsWith("/") && f.startsWith(d))));
}

/** `yarnPath:` of .yarnrc.yml: the Yarn release every `yarn` command runs, checked in by `yarn set version`. */
async function yarnPath(ctx: DetectContext): Promise<string | null> {
  const text = await ctx.read(".yarnrc.yml");
  if (text === null) return null;
  const lines = text.split("\n");
  const at = lines.findIndex((l) => l.startsWith("yarnPath:"));
  if (at < 0) return null;
  const value = unquote(lines[at]!.slice("yarnPath:".length).trim());
  const path = referencedPath(value, ".yarnrc.yml", ctx.rel(".yarnrc.yml"), at + 1);
  if (!(await ctx.exists(path))) {
    throw userError(`yarnPath in ${ctx.rel(".yarnrc.yml")} names \`${ctx.rel(path)}\`, which is not in the repository, so every yarn command would fail.`, {
      title: "Yarn release missing",
      location: { file: ctx.rel(".yarnrc.yml"), line: at + 1 },
      hint: `Commit ${ctx.rel(path)} (\`yarn set version\` writes it), or remove yarnPath and set "packageManager" in package.json instead.`,
    });
  }
  return path;
}

/** The patch files of pnpm's `patchedDependencies`, paths from package.json's directory. */
function pnpmPatches(ctx: DetectContext, pkg: Record<string, any>): string[] {
  const patched = pkg.pnpm?.patchedDependencies;
  if (!patched || typeof patched !== "object") return [];
  const values = Object.values(patched as Record<string, unknown>).filter((v): v is string => typeof v === "string").slice(0, 256);
  return values.map((v) => referencedPath(v, "package.json", ctx.rel("package.json")));
}

/** `dir/` names a directory, anything else a regular file; a COPY of the wrong kind would misplace it or fail. */
async function isA(ctx: DetectContext, path: string): Promise<boolean> {
  const dir = path.endsWith("/");
  const name = dir ? path.slice(0, -1) : path;
  // read gives null for a directory and the text for a file (a link out of the repo is an error).
  return (await ctx.exists(name)) && ((await ctx.read(name)) === null) === dir;
}

function unquote(s: string): string {
  const q = s[0];
  return (q === '"' || q === "'") && s.endsWith(q) && s.length >= 2 ? s.slice(1, -1) : s;
}
