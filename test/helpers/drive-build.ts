import type { Builder, BuildInput, BuildOutput, LogLine } from "../../src/core/builder.ts";

export interface BuildOutcome {
  lines: LogLine[];
  result: BuildOutput | null;
  error: unknown;
  /** When the result settled, ms since the epoch. */
  settledAt: number;
}

/** Runs a build to its end, draining the logs as a consumer must. */
export async function driveBuild(builder: Builder, input: BuildInput, onLine?: (l: LogLine) => unknown): Promise<BuildOutcome> {
  const handle = builder.build(input);
  const lines: LogLine[] = [];
  const drained = (async () => {
    for await (const l of handle.logs) {
      lines.push(l);
      onLine?.(l);
    }
  })();
  let result: BuildOutput | null = null;
  let error: unknown = null;
  try {
    result = await handle.result;
  } catch (err) {
    error = err;
  }
  const settledAt = Date.now();
  await drained;
  return { lines, result, error, settledAt };
}
