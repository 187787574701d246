import type { BuildPlan } from "../core/types.ts";
import type { DetectContext } from "./context.ts";

/** One runtime. The registry asks them in a fixed order; see registry.ts. */
export interface Provider {
  /** What `runtime:` says to choose it, e.g. "node". */
  readonly name: string;
  /** For messages, e.g. "Node". */
  readonly label: string;
  /** The `runtime:` values that choose it: its name and its versioned ids (nodejs22). */
  readonly runtimeIds: RegExp;
  /** The files `detect` looks for, for the error when nothing matches. */
  readonly lookedFor: string;
  /** Does this app look like ours? Cheap: file existence only. */
  detect(ctx: DetectContext): Promise<boolean>;
  /** Evidence that the app is started with this runtime, for the node-versus-python tie-break. */
  startEvidence(ctx: DetectContext): Promise<string | null>;
  /** The plan; throws a user error (MicroshipError) when the app can't be built as it is. */
  plan(ctx: DetectContext): Promise<BuildPlan>;
  /** How to tell microship the start command, for error messages. */
  startCommandHelp: string;
}
