import { readdir } from "node:fs/promises";
import { userError, type MicroshipError } from "../core/errors.ts";
import type { DetectContext } from "./context.ts";
import { subfolderDockerfileError } from "./subfolder-dockerfile-error.ts";

// Files that name a language microship has no provider for. The first one found is told.
const OTHER_LANGUAGES: [string, string][] = [
  ["go.mod", "Go"], ["Cargo.toml", "Rust"], ["Gemfile", "Ruby"], ["composer.json", "PHP"], ["pom.xml", "Java (Maven)"],
  ["build.gradle", "Java (Gradle)"], ["build.gradle.kts", "Kotlin (Gradle)"], ["mix.exs", "Elixir"], ["deno.json", "Deno"],
  ["deno.jsonc", "Deno"], ["Package.swift", "Swift"], ["pubspec.yaml", "Dart"], ["stack.yaml", "Haskell"],
];
// What marks an app in a subdirectory, and the runtime it would be.
const APP_MARKERS: [string, string][] = [
  ["Dockerfile", "a Dockerfile"], ["package.json", "package.json"], ["requirements.txt", "requirements.txt"],
  ["pyproject.toml", "pyproject.toml"], ["index.html", "index.html"],
];
const MAX_DIRS = 64;
const MAX_TOLD = 4;
// Names told in messages are plain ones: a name is shown in a check run, formatted as code.
const PLAIN_NAME = /^[A-Za-z0-9._-]{1,100}$/;
const SKIP = new Set(["node_modules", ".git", ".github", "vendor", "test", "tests", "__pycache__", ".venv", "venv"]);

/**
 * The error for an app no provider claims: what was found instead (another language's manifest,
 * apps or a static site in subdirectories), what is missing, and the config that fixes it.
 */
export async function unknownAppError(ctx: DetectContext, lookedFor: string): Promise<MicroshipError> {
  const where = ctx.root === "." ? "this repository" : `\`${ctx.root}\``;
  const dockerfiles = await subfolderDockerfileError(ctx, `microship could not tell how to build ${where}: it looked for ${lookedFor}, and found none`);
  if (dockerfiles) return dockerfiles;
  const language = await otherLanguage(ctx);
  if (language) {
    return userError(`This looks like a ${language.name} app (${ctx.rel(language.file)}), which microship doesn't build yet: it builds Node, Python and static sites, or any app with a Dockerfile.`, {
      title: `${language.name} isn't built yet`,
      location: { file: ctx.rel(language.file) },
      hint: `Add a Dockerfile to ${ctx.root === "." ? "the repository's root" : `\`${ctx.root}\``}, or set \`dockerfile: path/to/Dockerfile\` in .github/microship.yml.`,
    });
  }
  const nested = await nestedApps(ctx);
  const missing = `microship could not tell how to build ${where}: it looked for ${lookedFor}, and found none`;
  if (nested.length > 0) {
    const found = nested.map((n) => `${n.marker} in \`${n.dir}/\``).join(", ");
    const first = nested[0]!;
    const fix = first.marker === "index.html" && nested.length === 1
      ? `this looks like a static site in \`${first.dir}/\`: set \`root: ${first.dir}\` and \`runtime: static\``
      : `set \`root: ${first.dir}\`${nested.length > 1 ? ", or `builds:` with one `name:` and `root:` per app," : ""}`;
    return userError(`${missing} at its top, but found ${found}.`, {
      title: "The app is in a subdirectory",
      hint: `To build it, ${fix} in .github/microship.yml.`,
    });
  }
  return userError(`${missing}.`, {
    title: "Unknown runtime",
    hint: "Add a Dockerfile, or set `runtime: node`, `runtime: python` or `runtime: static` in .github/microship.yml (with `root:` if the app is in a subdirectory).",
  });
}

async function otherLanguage(ctx: DetectContext): Promise<{ file: string; name: string } | null> {
  for (const [file, name] of OTHER_LANGUAGES) if (await ctx.exists(file)) return { file, name };
  const entries = await readdir(ctx.appDir).catch(() => [] as string[]);
  const dotnet = entries.sort().find((e) => PLAIN_NAME.test(e) && (e.endsWith(".csproj") || e.endsWith(".fsproj") || e.endsWith(".sln")));
  return dotnet ? { file: dotnet, name: ".NET" } : null;
}

/** The first app marker of each top-level directory, by name; at most MAX_TOLD of them. */
async function nestedApps(ctx: DetectContext): Promise<{ dir: string; marker: string }[]> {
  const entries = await readdir(ctx.appDir, { withFileTypes: true }).catch(() => []);
  const dirs = entries.filter((e) => e.isDirectory() && PLAIN_NAME.test(e.name) && !SKIP.has(e.name) && !e.name.startsWith(".")).map((e) => e.name).sort().slice(0, MAX_DIRS);
  const out: { dir: string; marker: string }[] = [];
  for (const dir of dirs) {
    for (const [file, marker] of APP_MARKERS) {
      if (await ctx.exists(`${dir}/${file}`)) {
        out.push({ dir: ctx.rel(dir), marker });
        break;
      }
    }
    if (out.length >= MAX_TOLD) break;
  }
  return out;
}

/** For a runtime's "no start command": when index.html is there, the site may need no server at all. */
export async function staticSiteHint(ctx: DetectContext): Promise<string> {
  if (!(await ctx.exists("index.html"))) return "";
  return ` If this is a static site (${ctx.rel("index.html")} is there), set \`runtime: static\` in .github/microship.yml: Caddy serves the files${(await ctx.exists("package.json")) ? ", built first when package.json has a `build` script" : ""}.`;
}
