import type { PlanOutcome } from "../core/ports.ts";
import { isMicroshipError, toMicroshipError, userError } from "../core/errors.ts";
import { resolveApps, type RepoConfig, type ResolvedAppConfig } from "../core/repo-config.ts";
import { DetectContext } from "./context.ts";
import type { Provider } from "./provider.ts";
import { checkAppRoot } from "./check-app-root.ts";
import { checkContextUse } from "./build-context.ts";
import { procfileRelease } from "./procfile-release.ts";
import { unknownAppError } from "./unknown-app.ts";
import { dockerfileProvider } from "./providers/dockerfile/dockerfile-provider.ts";
import { nodeProvider } from "./providers/node/node-provider.ts";
import { pythonProvider } from "./providers/python/python-provider.ts";
import { staticProvider } from "./providers/static/static-provider.ts";

/**
 * The order matters, and is the rule of docs/design.md section 4:
 * 1. explicit config (`runtime` or `dockerfile`) is the user's word and always wins;
 * 2. a Dockerfile at the app root means the user already decided how to build;
 * 3. a static site: index.html with no other runtime's files, or a single-page app (Vite, Create
 *    React App, Angular, Vue CLI) with a build script and no server. It comes before Node because
 *    every SPA has a package.json Node would claim, and its `start` is a dev server; its detect is
 *    narrow (no server dependency, no start command of the user's, no other runtime's manifest)
 *    so that any app with a server of its own falls through to Node or Python;
 * 4. node and python are detected together, because one repo often has both (a Node front end
 *    with a Python tool, a Django app with a package.json for assets). When both match, the one
 *    with start evidence wins; both or neither is a question for the user, never a guess.
 */
export const RUNTIME_PROVIDERS: Provider[] = [nodeProvider, pythonProvider];
/** What `runtime:` may name. */
const NAMED_PROVIDERS: Provider[] = [...RUNTIME_PROVIDERS, staticProvider];

export interface PlanOptions {
  baseImageMirror?: string | null;
  /** YYYY-MM-DD for end-of-life warnings; today when not given. */
  today?: string;
}

export async function planApps(repoDir: string, config: RepoConfig | null, options: PlanOptions = {}): Promise<PlanOutcome[]> {
  const apps = resolveApps(config ?? {});
  const out: PlanOutcome[] = [];
  for (const app of apps) out.push(await planApp(repoDir, app, options));
  return out;
}

async function planApp(repoDir: string, app: ResolvedAppConfig, options: PlanOptions): Promise<PlanOutcome> {
  const ctx = new DetectContext(repoDir, app, options.baseImageMirror ?? null, options.today);
  try {
    await checkAppRoot(repoDir, app.root, app.name);
    const { provider, note } = await chooseProvider(ctx);
    const plan = await provider.plan(ctx);
    checkContextUse(ctx, plan);
    plan.release ??= await procfileRelease(ctx);
    if (note) plan.messages.splice(1, 0, { level: "info", text: note });
    return { ok: true, plan };
  } catch (err) {
    if (isMicroshipError(err) && err.kind === "user") return { ok: false, app: app.name, error: err };
    return { ok: false, app: app.name, error: toMicroshipError(err) };
  }
}

async function chooseProvider(ctx: DetectContext): Promise<{ provider: Provider; note: string | null }> {
  const { runtime, dockerfile } = ctx.config;
  if (dockerfile) return { provider: dockerfileProvider, note: null };
  if (runtime) {
    const chosen = NAMED_PROVIDERS.find((p) => p.runtimeIds.test(runtime));
    if (!chosen) {
      throw userError(`\`runtime: ${runtime}\` in .github/microship.yml is not a runtime microship builds.`, {
        title: "Unknown runtime",
        location: { file: ".github/microship.yml" },
        hint: `Use one of ${NAMED_PROVIDERS.map((p) => `\`${p.name}\``).join(", ")}, or a versioned id such as nodejs22 or python312; or set \`dockerfile:\`.`,
      });
    }
    return { provider: chosen, note: `Runtime set by \`runtime: ${runtime}\` in .github/microship.yml.` };
  }
  if (await dockerfileProvider.detect(ctx)) return { provider: dockerfileProvider, note: null };
  if (await staticProvider.detect(ctx)) return { provider: staticProvider, note: null };
  const matched: Provider[] = [];
  for (const p of RUNTIME_PROVIDERS) if (await p.detect(ctx)) matched.push(p);
  if (matched.length === 1) return { provider: matched[0]!, note: null };
  if (matched.length === 0) throw await unknownAppError(ctx, listOf([dockerfileProvider, staticProvider, ...RUNTIME_PROVIDERS].map((p) => p.lookedFor), "and"));
  const all = matched.length === 2 ? "both" : "all of";
  const files = `${all} ${listOf(matched.map((p) => p.label), "and", false)} files`;
  const evidence = await Promise.all(matched.map(async (p) => [p, await p.startEvidence(ctx)] as const));
  const withEvidence = evidence.filter(([, e]) => e !== null);
  if (withEvidence.length === 1) {
    const [chosen, why] = withEvidence[0]!;
    return { provider: chosen, note: `${files[0]!.toUpperCase()}${files.slice(1)} are present; ${chosen.name} was chosen because of ${why}. Set \`runtime:\` to choose otherwise.` };
  }
  const detail = withEvidence.length === 0
    ? `${matched.length === 2 ? "neither has" : "none has"} a start command`
    : `${withEvidence.length === 2 ? "both have" : "several have"} start evidence (${withEvidence.map(([p, e]) => `${p.name}: ${e}`).join("; ")})`;
  throw userError(`This app has ${files}, and ${detail}, so microship won't guess.`, {
    title: `${listOf(matched.map((p) => p.label), "or", false)}? Set runtime`,
    location: { file: ".github/microship.yml" },
    hint: `Set ${listOf(matched.map((p) => `\`runtime: ${p.name}\``), "or", false)} in .github/microship.yml.`,
  });
}

/** "a, b, and c"; with two items "a, and b" unless `serial` is false ("a and b"). */
function listOf(items: string[], word: string, serial = true): string {
  if (items.length <= 1) return items.join("");
  if (items.length === 2) return `${items[0]}${serial ? "," : ""} ${word} ${items[1]}`;
  return `${items.slice(0, -1).join(", ")}, ${word} ${items.at(-1)}`;
}
