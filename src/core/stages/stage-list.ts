import type { Phase } from "../types.ts";
import { archiveStage } from "./archive.ts";
import { buildStage } from "./build.ts";
import { checkoutStage } from "./checkout.ts";
import { configStage } from "./config.ts";
import { deployStage } from "./deploy.ts";
import { planStage } from "./plan.ts";
import { pushStage } from "./push.ts";

/**
 * A build, in order. Adding a stage is its file under src/core/stages/ and one line here: the
 * Phase type, the summary's timings and the phase metric all follow from this list. Every
 * `build` stage runs before the first `app` stage, whatever their order here.
 */
export const STAGES = [
  checkoutStage,
  configStage,
  planStage,
  archiveStage,
  buildStage,
  pushStage,
  deployStage,
  // After push (deploy, attest): `app` stages, they go here.
] as const;

/** The summary's timing columns, in order: the wait in the queue, then each stage's phase once. */
export const PHASES: readonly Phase[] = ["queue", ...new Set(STAGES.map((s) => s.phase))];
