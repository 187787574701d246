import type { DetectContext } from "../../context.ts";
import type { PackageManagerChoice, UserMessage } from "../../../core/types.ts";
import { userError } from "../../../core/errors.ts";
import { corepackSetup, bunSetup } from "./package-manager-setup.ts";

export interface NodePm extends PackageManagerChoice {
  lockfile: string | null;
  /**
   * The build stage runs with NODE_ENV=production, for frameworks that build differently (or
   * fail to) in development; npm, pnpm and Yarn 1 would then skip devDependencies, which the
   * build needs, so the install asks for them. Yarn 2+ installs them regardless; bun has no
   * documented flag for it, so its install runs with NODE_ENV=development as before.
   */
  install: string;
  /** Dockerfile lines of the build stage before the install, e.g. enabling corepack. */
  setup: string | null;
  /** Dockerfile lines of the runtime stage that make the manager available to the start command. */
  runtimeSetup: string | null;
  run: string;
  cacheDir: string;
  berry: boolean;
  /**
   * Drops the devDependencies after the build, leaving the rest as installed (nothing is
   * downloaded or rebuilt). Null where no such command exists: Yarn's production install
   * relinks and would lose what install scripts built, and bun has none.
   */
  prune: string | null;
}

// The order is the rule when several lockfiles are present and package.json doesn't say.
const LOCKS: [string, string][] = [
  ["pnpm-lock.yaml", "pnpm"],
  ["bun.lockb", "bun"],
  ["bun.lock", "bun"],
  ["yarn.lock", "yarn"],
  ["package-lock.json", "npm"],
  ["npm-shrinkwrap.json", "npm"],
];
const KNOWN = ["npm", "pnpm", "yarn", "bun"];

/** packageManager (Corepack) wins, then the lockfile, then engines, then npm. */
export async function nodePackageManager(ctx: DetectContext, pkg: Record<string, any>, messages: UserMessage[]): Promise<NodePm> {
  const pkgFile = ctx.rel("package.json");
  const present: [string, string][] = [];
  for (const [file, pm] of LOCKS) if (await ctx.exists(file)) present.push([file, pm]);

  const { name, evidence, pinned } = chooseManager(ctx, pkg, present);

  const lockfile = present.find(([, pm]) => pm === name)?.[0] ?? null;
  const ignored = present.filter(([, pm]) => pm !== name).map(([f, pm]) => `${ctx.rel(f)} (${pm})`);
  if (ignored.length > 0) {
    const why = pinned ? `"packageManager" in ${pkgFile} says ${name}` : `lockfiles are taken in the order pnpm, bun, yarn, npm`;
    messages.push({ level: "warning", text: `Lockfiles of more than one package manager: ${name} is used because ${why}, and ${ignored.join(", ")} ${ignored.length > 1 ? "are" : "is"} ignored. Delete the stale lockfile, or set "packageManager" in package.json.`, file: pkgFile });
  }
  if (!lockfile) {
    messages.push({ level: "warning", text: `No lockfile for ${name}: dependencies are installed without one (\`${name} install\`), so builds may not be reproducible. Commit your lockfile.`, file: pkgFile });
  }

  return managerCommands(ctx, { name, evidence, pinned, lockfile });
}

/** Which manager, on what evidence, and the version `packageManager` pins (if it does). */
function chooseManager(ctx: DetectContext, pkg: Record<string, any>, present: [string, string][]): { name: string; evidence: string; pinned: string | null } {
  const pkgFile = ctx.rel("package.json");
  let name: string | null = null;
  let evidence = "";
  let pinned: string | null = null;
  if (typeof pkg.packageManager === "string") {
    const m = /^(@?[^@]+)@(.+)$/.exec(pkg.packageManager.trim());
    if (!m || !KNOWN.includes(m[1]!)) {
      throw userError(`"packageManager": "${pkg.packageManager}" in ${pkgFile} is not one microship can use: it must be <name>@<version> with one of ${KNOWN.join(", ")}.`, {
        title: "Unknown packageManager",
        location: { file: pkgFile },
        hint: `Set "packageManager" to e.g. "pnpm@9.12.0", or remove it to let the lockfile decide.`,
      });
    }
    name = m[1]!;
    pinned = m[2]!.split("+")[0]!;
    evidence = `"packageManager": "${pkg.packageManager}" in ${pkgFile}`;
  } else if (present.length > 0) {
    name = present[0]![1];
    evidence = ctx.rel(present[0]![0]);
  } else {
    const engines = pkg.engines ?? {};
    const pm = ["pnpm", "yarn", "bun"].find((p) => typeof engines[p] === "string");
    if (pm) {
      name = pm;
      evidence = `engines.${pm} in ${pkgFile}`;
    }
  }
  if (!name) {
    name = "npm";
    evidence = "no lockfile or packageManager field (npm is the default)";
  }

  return { name, evidence, pinned };
}

/** The manager's Dockerfile setup and commands. */
async function managerCommands(ctx: DetectContext, o: { name: string; evidence: string; pinned: string | null; lockfile: string | null }): Promise<NodePm> {
  const { name, evidence, pinned, lockfile } = o;
  const berry = name === "yarn" && ((await ctx.exists(".yarnrc.yml")) || /^[2-9]|^\d{2,}/.test(pinned ?? ""));
  switch (name) {
    case "pnpm": {
      const { build, runtime } = corepackSetup(pinned ? null : await pnpmFromLockfile(ctx, lockfile));
      return { name, evidence, lockfile, berry, setup: build, runtimeSetup: runtime, install: lockfile ? "pnpm install --frozen-lockfile --prod=false" : "pnpm install --prod=false", prune: lockfile ? "pnpm prune --prod" : null, run: "pnpm run", cacheDir: "/root/.local/share/pnpm/store" };
    }
    case "yarn": {
      const { build, runtime } = corepackSetup(pinned ? null : berry ? "yarn@stable" : "yarn@1");
      const rc = berry && (await ctx.exists(".yarnrc.yml"));
      return {
        name: berry ? "yarn (berry)" : "yarn", evidence: rc ? `${evidence}, ${ctx.rel(".yarnrc.yml")}` : evidence, lockfile, berry,
        // Berry keeps the packages it loads at run time in its cache; a project-local cache puts them
        // in the image, while the global folder becomes a mirror that the cache mount keeps warm.
        setup: berry ? `${build}\nENV YARN_ENABLE_GLOBAL_CACHE=false` : build,
        runtimeSetup: runtime,
        install: berry ? (lockfile ? "yarn install --immutable" : "yarn install") : lockfile ? "yarn install --frozen-lockfile --production=false" : "yarn install --production=false",
        run: "yarn run",
        prune: null,
        cacheDir: berry ? "/root/.yarn/berry/cache" : "/usr/local/share/.cache/yarn",
      };
    }
    case "bun": {
      const setup = bunSetup(pinned);
      return { name, evidence, lockfile, berry, setup, runtimeSetup: setup, install: lockfile ? "NODE_ENV=development bun install --frozen-lockfile" : "NODE_ENV=development bun install", prune: null, run: "bun run", cacheDir: "/root/.bun/install/cache" };
    }
    default:
      return { name: "npm", evidence, lockfile, berry, setup: null, runtimeSetup: null, install: lockfile ? "npm ci --include=dev" : "npm install --include=dev", prune: lockfile ? "npm prune --omit=dev" : null, run: "npm run", cacheDir: "/root/.npm" };
  }
}

/** pnpm's lockfile format tells the major that wrote it; a newer pnpm may refuse it when frozen. */
async function pnpmFromLockfile(ctx: DetectContext, lockfile: string | null): Promise<string> {
  const text = lockfile ? await ctx.read(lockfile) : null;
  const v = text ? /^lockfileVersion:\s*['"]?(\d+)/m.exec(text)?.[1] : undefined;
  if (v === "5") return "pnpm@7";
  if (v === "6") return "pnpm@8";
  if (v === "9") return "pnpm@9";
  return "pnpm@latest";
}
