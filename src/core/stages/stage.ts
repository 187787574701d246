import type { BuildOutcome, BuildRecord } from "../build.ts";
import type { BuildLog } from "../build-log.ts";
import type { BuildOutput, SourceArchive } from "../builder.ts";
import type { PipelineDeps } from "../pipeline-deps.ts";
import type { Checkout, ImageTarget, PlanOutcome } from "../ports.ts";
import type { RepoConfig } from "../repo-config.ts";
import type { BuildPlan, PhaseTimings } from "../types.ts";

/**
 * One step of a build. A `build` stage runs once per build; an `app` stage runs once per app
 * of the repo (after every `build` stage), with `ctx.app` set and `ctx.signal` bounded by
 * that app's deadline. The runner times each stage into its `phase`: the summary's timings
 * and `metrics.phase` both come from there, so a new stage needs nothing else to show up.
 */
export interface Stage<P extends string = string> {
  /** The stage's file under src/core/stages/ is named after it. */
  name: string;
  /** The column of the summary's timings and the label of the phase metric; stages may share one. */
  phase: P;
  scope: "build" | "app";
  run(ctx: StageContext): Promise<StageEnd | void>;
}

export interface StageEnd {
  /** Ends the build (or, in an `app` stage, that app) here with this outcome, e.g. a skip. */
  outcome?: BuildOutcome;
  /** The stage's time by its own measure, when the work ran elsewhere (the builder times its build and push). */
  ms?: number;
}

/** What the stages of one build share; each stage fills in what the later ones read. */
export interface StageContext {
  readonly build: BuildRecord;
  readonly deps: PipelineDeps;
  /** The user's build log (the check run's tail and the log page). */
  readonly log: BuildLog;
  /** A scratch dir of this build's own, removed when it ends. */
  readonly scratch: string;
  /** The build's signal; in an `app` stage, the app's deadline on top of it. */
  readonly signal: AbortSignal;
  readonly phases: PhaseTimings;
  /** The phase the live check run shows as "now". */
  readonly current: { phase: string };
  checkout: Checkout | null;
  config: RepoConfig | null;
  plans: PlanOutcome[];
  app: AppState | null;
}

/** One app's way through the `app` stages. */
export interface AppState {
  plan: BuildPlan;
  /** The checkout the app's root is relative to. */
  repoDir: string;
  timeoutSeconds: number;
  archive: SourceArchive | null;
  target: ImageTarget | null;
  output: BuildOutput | null;
  /** What the app's outcome reports if every stage succeeds (the archive, the image...). */
  found: Partial<BuildOutcome>;
}

/** What an earlier stage left for this one; its absence is a bug in the stage list's order. */
export function need<T>(value: T | null | undefined, what: string, stage: string): T {
  if (value == null) throw new Error(`The ${stage} stage needs ${what}, which no earlier stage provided.`);
  return value;
}

export function appOf(ctx: StageContext, stage: string): AppState {
  return need(ctx.app, "an app (it is an `app` stage)", stage);
}
