import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Builder } from "./builder.ts";
import type { Store } from "./store.ts";
import type { BuildOutcome, BuildRecord } from "./build.ts";
import { emptyOutcome } from "./build.ts";
import { BuildLog, ThrottledUpdater } from "./build-log.ts";
import { LeaseLostError, timeoutError } from "./errors.ts";
import { skipReason } from "./filters.ts";
import { retrying } from "./retry.ts";
import { annotateFromLog } from "./log-annotations.ts";
import { outcomeFromError, worstConclusion } from "./outcome.ts";
import type {
  Archiver, Checkout, ChecksReporter, ConfigSource, ImageNamer, LinkSigner, Metrics, OpLog, Planner, PlanOutcome, RegistryCredentials, RunRef, SecretSource, SourceFetcher,
} from "./ports.ts";
import type { Phase, PhaseTimings } from "./types.ts";

export interface PipelineDeps {
  source: SourceFetcher;
  config: ConfigSource;
  planner: Planner;
  archiver: Archiver;
  builder: Builder;
  reporter: ChecksReporter;
  store: Store;
  images: ImageNamer;
  /** Each build's push credential; absent when the registry takes none from us. */
  registryCredentials?: RegistryCredentials | null;
  secrets: SecretSource | null;
  links: LinkSigner;
  metrics: Metrics;
  log: OpLog;
  /** Parent of the per-build scratch dirs. */
  workDir: string;
  buildTimeoutSeconds: number;
  /** The detection story for the summary (what was chosen, from which file, how to override). */
  describePlan?: (plan: import("./types.ts").BuildPlan) => string;
  /** Bytes of build log stored per build; BuildLog's default when absent. */
  logMaxBytes?: number;
  /** Minimum time between two log-tail updates of one check run (GitHub's limits: 5 s). */
  progressIntervalMs: number;
}

type RunWithId = RunRef & { checkRunId: number };

/**
 * One build, start to finish: checkout, config, plan, archive, build and push, report.
 * It always ends the build in the store and concludes every check run it opened.
 */
export async function runPipeline(build: BuildRecord, signal: AbortSignal, deps: PipelineDeps): Promise<BuildOutcome> {
  const { store, reporter, log: opLog } = deps;
  const log = new BuildLog(store, build.id, { maxBytes: deps.logMaxBytes, onError: (err) => opLog.error({ err, buildId: build.id }, "the build log could not be stored; the build goes on") });
  const phases: PhaseTimings = { queue: (build.startedAt ?? Date.now()) - build.createdAt };
  let phase: Phase = "clone";
  const timed = async <T>(name: Phase, fn: () => Promise<T>): Promise<T> => {
    phase = name;
    const t0 = Date.now();
    try {
      return await fn();
    } finally {
      phases[name] = (phases[name] ?? 0) + (Date.now() - t0);
      deps.metrics.phase(name, Date.now() - t0);
    }
  };

  const main: RunWithId = { build, app: null, checkRunId: 0 };
  main.checkRunId = await retrying(() => reporter.started({ build, app: null, checkRunId: build.checkRunId }, deps.builder.describe()));
  if (main.checkRunId !== build.checkRunId) await store.setCheckRunId(build.id, main.checkRunId);
  const updater = new ThrottledUpdater(log, deps.progressIntervalMs, () => reporter.progress(main, log.tail(), phase));
  updater.start();

  let checkout: Checkout | null = null;
  const scratch = await mkdtemp(join(deps.workDir, `build-${build.id.slice(0, 8)}-`));
  let outcome: BuildOutcome;
  try {
    log.system(`microship build ${build.id} of ${build.request.owner}/${build.request.repo}@${build.request.sha.slice(0, 12)}`);
    if (build.tries > 1) log.system(`Resuming after an interruption (attempt ${build.tries}).`);
    checkout = await timed("clone", () => deps.source.checkout(build.request, signal));
    log.system(`Checked out ${build.request.sha} in ${phases.clone} ms.`);

    signal.throwIfAborted();
    const configResult = await timed("plan", () => deps.config.load(build.request, checkout!.dir));
    if (configResult && !configResult.ok) throw configResult.error;
    const config = configResult?.config ?? null;
    const skip = skipReason(build.request, config);
    if (skip) {
      log.system(`Skipped: ${skip}.`);
      outcome = { ...emptyOutcome("skipped", "Skipped by config"), skippedReason: skip, phases };
    } else {
      const plans = await timed("plan", () => deps.planner.plan(checkout!.dir, config));
      outcome = plans.length === 1
        ? await buildApp(plans[0]!, main, checkout.dir)
        : await buildApps(plans, checkout.dir);
    }
  } catch (err) {
    outcome = outcomeFromError(signal.aborted && isTimeoutReason(signal.reason) ? signal.reason : err, { phases });
    if (outcome.conclusion === "neutral") opLog.error({ err, buildId: build.id }, "build failed on our side");
    log.system(`${outcome.title}: ${outcome.error?.message ?? ""}`);
  } finally {
    await updater.stop();
    await checkout?.cleanup().catch((err) => opLog.warn({ err }, "checkout cleanup failed"));
    await rm(scratch, { recursive: true, force: true });
  }

  if (signal.reason instanceof LeaseLostError) {
    opLog.warn({ buildId: build.id }, "lease lost mid-build; leaving the report to the build's new owner");
    return outcome;
  }
  if (outcome.conclusion === "cancelled") outcome = await withSupersede(build.id, outcome, store);
  outcome.phases = { ...phases, ...outcome.phases };
  await log.flush();
  await retrying(() => reporter.completed(main, outcome, log.tail(), deps.links.detailsUrl(build.id)));
  await store.complete(build.id, outcome.conclusion, outcome);
  deps.metrics.buildFinished(outcome.conclusion);
  return outcome;

  async function buildApp(planned: PlanOutcome, run: RunWithId, repoDir: string): Promise<BuildOutcome> {
    if (!planned.ok) throw planned.error;
    const plan = planned.plan;
    for (const m of plan.messages) log.system(`${m.level}: ${m.text}`);
    const base: Partial<BuildOutcome> = { runtime: plan.runtime, detection: deps.describePlan?.(plan) ?? null, builder: deps.builder.describe(), messages: plan.messages };
    const timeoutSeconds = plan.timeoutSeconds ?? deps.buildTimeoutSeconds;
    const guard = deadline(signal, timeoutSeconds);
    try {
      const archive = await timed("archive", () => deps.archiver.archive(join(repoDir, plan.root), plan, join(scratch, `${plan.app ?? "app"}.tar.gz`)));
      log.system(`Source archive: ${archive.fileCount} files, ${archive.sizeBytes} bytes, sha256 ${archive.sha256}.`);
      const target = deps.images.target(build.request, plan);
      const fork = build.request.pr?.fork ?? false;
      const secrets = fork || !deps.secrets ? [] : await deps.secrets.secretsFor(build.request);
      if (fork) log.system("This build is from a fork: it gets no secrets and its cache is kept apart from the base repository's.");
      const { owner, repo, pr } = build.request;
      guard.signal.throwIfAborted();
      phase = "build";
      const t0 = Date.now();
      try {
        const handle = deps.builder.build({
          buildId: build.id,
          source: archive,
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
          signal: guard.signal,
        });
        const drained = (async () => {
          for await (const line of handle.logs) log.add(line);
        })();
        const result = await handle.result.finally(() => drained);
        await drained;
        phases.build = result.timings.buildMs;
        phases.push = result.timings.pushMs;
        return {
          ...emptyOutcome("success", "Image built and pushed"),
          ...base,
          image: { ref: result.imageRef, digest: result.digest, name: target.imageName, tags: result.tags, sizeBytes: result.sizeBytes },
          archive: { sizeBytes: archive.sizeBytes, fileCount: archive.fileCount },
          phases,
        };
      } finally {
        phases.build ??= Date.now() - t0;
      }
    } catch (err) {
      const failed = outcomeFromError(guard.signal.aborted && isTimeoutReason(guard.signal.reason) ? guard.signal.reason : err, { ...base, phases });
      if (failed.error?.kind === "user") failed.messages = [...failed.messages, ...annotateFromLog(log.tail(), join(repoDir, plan.root), plan.root)];
      return failed;
    } finally {
      guard.dispose();
    }
  }

  async function buildApps(plans: PlanOutcome[], repoDir: string): Promise<BuildOutcome> {
    const results: { app: string; outcome: BuildOutcome }[] = [];
    for (const planned of plans) {
      const app = planned.ok ? planned.plan.app ?? "app" : planned.app ?? "app";
      const open = await store.openAppCheckRuns(build.id);
      const known = open.find((r) => r.app === app)?.checkRunId ?? null;
      const run: RunWithId = { build, app, checkRunId: 0 };
      run.checkRunId = await reporter.started({ build, app, checkRunId: known }, deps.builder.describe());
      await store.setAppCheckRun(build.id, app, run.checkRunId);
      log.system(`--- app ${app} ---`);
      const outcome = await buildApp(planned, run, repoDir).catch((err) => outcomeFromError(err, { phases }));
      await reporter.completed(run, outcome, log.tail(), deps.links.detailsUrl(build.id));
      await store.markAppCheckRunCompleted(build.id, app);
      results.push({ app, outcome });
    }
    const conclusion = worstConclusion(results.map((r) => r.outcome.conclusion));
    return {
      ...emptyOutcome(conclusion, `${results.filter((r) => r.outcome.conclusion === "success").length} of ${results.length} apps built`),
      messages: results.map((r) => ({ level: r.outcome.conclusion === "success" ? "info" : "error", text: `${r.app}: ${r.outcome.title}` })),
      phases,
    };
  }
}

function isTimeoutReason(reason: unknown): boolean {
  return reason instanceof Error && "kind" in reason && (reason as { kind: string }).kind === "timeout";
}

/** An outer deadline on top of the builder's own: a hung backend must not hold the build forever. */
function deadline(parent: AbortSignal, seconds: number): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onAbort = () => controller.abort(parent.reason);
  if (parent.aborted) onAbort();
  parent.addEventListener("abort", onAbort, { once: true });
  const timer = setTimeout(() => controller.abort(timeoutError(`The build took longer than its ${seconds} s limit.`, {
    title: `Build timed out after ${seconds} s`,
    hint: "Make the build faster, or raise `timeout` in .github/microship.yml.",
  })), (seconds + 30) * 1000);
  timer.unref();
  return {
    signal: controller.signal,
    dispose() {
      clearTimeout(timer);
      parent.removeEventListener("abort", onAbort);
    },
  };
}

async function withSupersede(id: string, outcome: BuildOutcome, store: Store): Promise<BuildOutcome> {
  const fresh = await store.getBuild(id);
  if (!fresh?.supersededBy) return outcome;
  const newer = await store.getBuild(fresh.supersededBy);
  return {
    ...outcome,
    title: "Superseded by a newer build",
    supersededBy: newer ? { buildId: newer.id, sha: newer.request.sha } : null,
  };
}
