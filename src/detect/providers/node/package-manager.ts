import type { DetectContext } from "../../context.ts";
import type { PackageManagerChoice, UserMessage } from "../../../core/types.ts";

export interface NodePm extends PackageManagerChoice {
  lockfile: string | null;
  install: string;
  /** Commands run before install, e.g. enabling corepack. */
  setup: string | null;
  run: string;
  cacheDir: string;
  berry: boolean;
}

const LOCKS: [string, string][] = [
  ["pnpm-lock.yaml", "pnpm"],
  ["bun.lockb", "bun"],
  ["bun.lock", "bun"],
  ["yarn.lock", "yarn"],
  ["package-lock.json", "npm"],
  ["npm-shrinkwrap.json", "npm"],
];

/** packageManager (Corepack) wins, then the lockfile, then engines, then npm. */
export async function nodePackageManager(ctx: DetectContext, pkg: Record<string, any>, messages: UserMessage[]): Promise<NodePm> {
  let name: string | null = null;
  let evidence = "";
  if (typeof pkg.packageManager === "string") {
    name = pkg.packageManager.split("@")[0]!;
    evidence = `"packageManager": "${pkg.packageManager}" in ${ctx.rel("package.json")}`;
  }
  let lockfile: string | null = null;
  for (const [file, pm] of LOCKS) {
    if (!(await ctx.exists(file))) continue;
    if (!name) {
      name = pm;
      evidence = ctx.rel(file);
    }
    if (pm === name) {
      lockfile = file;
      break;
    }
  }
  if (!name) {
    const engines = pkg.engines ?? {};
    for (const pm of ["pnpm", "yarn", "bun"]) {
      if (engines[pm]) {
        name = pm;
        evidence = `engines.${pm} in ${ctx.rel("package.json")}`;
        break;
      }
    }
  }
  if (!name) {
    name = "npm";
    evidence = "no lockfile or packageManager field (npm is the default)";
  }
  const berry = name === "yarn" && ((await ctx.exists(".yarnrc.yml")) || /^yarn@[2-9]/.test(String(pkg.packageManager ?? "")));
  if (!lockfile) {
    messages.push({ level: "warning", text: `No lockfile found for ${name}: dependencies are installed without one, so builds may not be reproducible. Commit your lockfile.`, file: ctx.rel("package.json") });
  }
  const corepack = "corepack enable";
  switch (name) {
    case "pnpm":
      return { name, evidence, lockfile, berry, setup: `RUN ${corepack}`, install: lockfile ? "pnpm install --frozen-lockfile" : "pnpm install", run: "pnpm run", cacheDir: "/root/.local/share/pnpm/store" };
    case "yarn":
      return {
        name: berry ? "yarn (berry)" : "yarn", evidence: berry && (await ctx.exists(".yarnrc.yml")) ? `${evidence}, .yarnrc.yml` : evidence, lockfile, berry, setup: `RUN ${corepack}`,
        install: lockfile ? (berry ? "yarn install --immutable" : "yarn install --frozen-lockfile") : "yarn install", run: "yarn run", cacheDir: berry ? "/root/.yarn/berry/cache" : "/usr/local/share/.cache/yarn",
      };
    case "bun":
      return { name, evidence, lockfile, berry, setup: "RUN npm install -g bun", install: lockfile ? "bun install --frozen-lockfile" : "bun install", run: "bun run", cacheDir: "/root/.bun/install/cache" };
    default:
      return { name: "npm", evidence, lockfile, berry, setup: null, install: lockfile ? "npm ci" : "npm install", run: "npm run", cacheDir: "/root/.npm" };
  }
}
