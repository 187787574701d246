import type { BuildInput, BuildSecret } from "../builder.ts";
import type { ImageTarget } from "../ports.ts";
import { registerSecret } from "../redact.ts";
import { NO_REPOSITORY_ID } from "../secrets/secret-store.ts";
import { appOf, type AppState, need, type Stage, type StageContext } from "./stage.ts";

/** Runs the builder on the app's archive and drains its log into the build log. */
export const buildStage: Stage<"build"> = {
  name: "build",
  phase: "build",
  scope: "app",
  async run(ctx) {
    const app = appOf(ctx, "build");
    const { build, deps, log } = ctx;
    const target = deps.images.target(build.request, app.plan);
    const fork = build.request.pr?.fork ?? false;
    const secrets = fork || !deps.secrets ? [] : await deps.secrets.secretsFor(build.request);
    if (fork) log.system("This build is from a fork: it gets no secrets and its cache is kept apart from the base repository's.");
    else if (deps.secrets && secrets.length === 0 && build.request.repositoryId == null) log.system(NO_REPOSITORY_ID);
    // The builders mask them in what they stream; the build log scrubs them too, whatever the builder.
    for (const s of secrets) registerSecret(s.value);
    ctx.signal.throwIfAborted();
    const handle = deps.builder.build(buildInput(ctx, app, target, secrets));
    const drained = (async () => {
      for await (const line of handle.logs) log.add(line);
    })();
    const output = await handle.result.finally(() => drained);
    await drained;
    app.target = target;
    app.output = output;
    return { ms: output.timings.buildMs };
  },
};

function buildInput(ctx: StageContext, app: AppState, target: ImageTarget, secrets: BuildSecret[]): BuildInput {
  const { build, deps } = ctx;
  const { owner, repo, pr } = build.request;
  const fork = pr?.fork ?? false;
  const { plan, timeoutSeconds } = app;
  return {
    buildId: build.id,
    source: need(app.archive, "a source archive", "build"),
    dockerfile: plan.dockerfile,
    imageName: target.imageName,
    tags: target.tags,
    buildArgs: plan.buildArgs,
    cacheScope: fork && pr ? `${owner}/${repo}/pr-${pr.number}` : `${owner}/${repo}`,
    untrusted: fork,
    registryAuth: deps.registryCredentials?.forBuild(build.id, build.request, target, timeoutSeconds) ?? null,
    noCache: build.request.noCache,
    timeoutSeconds,
    secrets,
    runtime: plan.runtime === "dockerfile" ? null : plan.runtime,
    baseImageDigest: null,
    signal: ctx.signal,
  };
}
