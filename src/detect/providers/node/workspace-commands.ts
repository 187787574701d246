import type { NodePm } from "./package-manager.ts";
import type { WorkspaceMember } from "./workspace-members.ts";
import { userError } from "../../../core/errors.ts";

// An npm package name: what a filter may name on a command line without quoting. Linear: no
// nested quantifiers.
const PACKAGE_NAME = /^(?:@[a-z0-9~][a-z0-9._~-]*\/)?[a-z0-9~][a-z0-9._~-]*$/i;
const DEP_FIELDS = ["dependencies", "devDependencies", "optionalDependencies"];

/**
 * The app and the workspace packages it depends on, through each other's dependencies, each
 * after the packages it needs (a cycle is broken where it closes): the order their builds run in.
 */
export function dependencyClosure(app: WorkspaceMember, members: WorkspaceMember[]): WorkspaceMember[] {
  const byName = new Map(members.filter((m) => m.name).map((m) => [m.name!, m]));
  const done = new Set<WorkspaceMember>();
  const out: WorkspaceMember[] = [];
  // An explicit stack, not recursion: a chain of 256 packages must not cost 256 frames.
  const stack: { m: WorkspaceMember; deps: WorkspaceMember[] | null }[] = [{ m: app, deps: null }];
  const onStack = new Set<WorkspaceMember>([app]);
  while (stack.length > 0) {
    const top = stack.at(-1)!;
    top.deps ??= workspaceDeps(top.m, byName);
    const next = top.deps.find((d) => !done.has(d) && !onStack.has(d));
    if (next) {
      top.deps = top.deps.filter((d) => d !== next);
      stack.push({ m: next, deps: null });
      onStack.add(next);
      continue;
    }
    stack.pop();
    onStack.delete(top.m);
    done.add(top.m);
    out.push(top.m);
  }
  return out;
}

function workspaceDeps(m: WorkspaceMember, byName: Map<string, WorkspaceMember>): WorkspaceMember[] {
  const names = DEP_FIELDS.flatMap((f) => (m.pkg[f] && typeof m.pkg[f] === "object" ? Object.keys(m.pkg[f]) : []));
  return [...new Set(names)].map((n) => byName.get(n)).filter((d): d is WorkspaceMember => d !== undefined && d !== m);
}

/** The app's package name, for filters; a workspace app without a usable one can't be selected. */
export function filterName(app: WorkspaceMember, file: string): string {
  if (app.name && PACKAGE_NAME.test(app.name)) return app.name;
  throw userError(`${file} has ${app.name ? `the name \`${app.name.slice(0, 80)}\`, which is not a package name` : "no \"name\""}, and a workspace's package managers select a package by its name.`, {
    title: "Workspace app without a name",
    location: { file },
    hint: `Give ${file} a "name" (for example "web"), as the workspace's other packages refer to it.`,
  });
}

/**
 * The install of the app and what it needs only: pnpm's `--filter app...` (the root's own
 * dependencies come with it), Yarn's `workspaces focus` with the root, npm's `-w` for each
 * package of the closure and the root. Yarn 1 and bun have no such filter: all is installed.
 */
export function workspaceInstall(pm: NodePm, name: string, closure: WorkspaceMember[], rootName: string | null): string {
  if (pm.name === "pnpm") return `${pm.install} --filter ${name}...`;
  if (pm.berry) return `yarn workspaces focus ${name}${rootName && PACKAGE_NAME.test(rootName) && rootName !== name ? ` ${rootName}` : ""}`;
  if (pm.name === "npm") return `${pm.install} ${closure.map((m) => `-w ${m.dir}`).join(" ")} --include-workspace-root`;
  return pm.install;
}

/**
 * The build of the app and the workspace packages it needs, dependencies first: turbo's filter
 * when the workspace has turbo.json, pnpm's recursive filter, else each package's `build` in
 * order. Null when none of them has a build script.
 */
export function workspaceBuild(pm: NodePm, name: string, closure: WorkspaceMember[], turbo: boolean): string | null {
  const built = closure.filter((m) => typeof m.pkg.scripts?.build === "string");
  if (built.length === 0) return null;
  if (turbo) return `${turboExec(pm)} turbo run build --filter=${name}...`;
  if (pm.name === "pnpm") return `pnpm --filter ${name}... run build`;
  return built.map((m) => buildOne(pm, m)).join(" && ");
}

function turboExec(pm: NodePm): string {
  if (pm.name === "pnpm") return "pnpm exec";
  if (pm.name.startsWith("yarn")) return "yarn";
  if (pm.name === "bun") return "bunx";
  return "npx --no";
}

function buildOne(pm: NodePm, m: WorkspaceMember): string {
  if (pm.name === "npm") return `npm run build -w ${m.dir}`;
  if (pm.name === "bun") return `bun run --cwd ${m.dir} build`;
  return `yarn workspace ${filterName(m, `${m.dir}/package.json`)} run build`;
}
