import type { BuildRecord } from "./build.ts";
import type { LogLine } from "./builder.ts";
import type { CheckRunOpener } from "./check-run-opener.ts";
import { concludeRun, type ConcludeDeps } from "./conclude-run.ts";
import { interruptedOutcome } from "./ending-outcomes.ts";
import type { Store } from "./store.ts";

/** The main run's text shows this many of the stored log's last lines. */
const TAIL_LINES = 500;

/**
 * Ends a build whose workers kept dying under it (or that was cancelled meanwhile), so no check
 * run spins for ever. A crash between creating the main run and storing its id left the store
 * without it: the opener adopts that run by its external_id (or opens one), so it is concluded too.
 */
export async function concludeAbandoned(build: BuildRecord, opener: CheckRunOpener, deps: ConcludeDeps): Promise<void> {
  const checkRunId = build.checkRunId ?? (await opener.ensure(build));
  const tail = checkRunId === null ? [] : await lastLines(deps.store, build.id, TAIL_LINES);
  await concludeRun(build, { outcome: interruptedOutcome(build), checkRunId, tail, retry: false }, deps);
}

/** The end of a stored log without loading the whole of it: a crashed build may have logged gigabytes. */
async function lastLines(store: Store, buildId: string, count: number): Promise<LogLine[]> {
  const lines: LogLine[] = [];
  let after = (await store.logTail(buildId, 1024 * 1024)).afterSeq;
  for (;;) {
    const page = await store.readLogPage(buildId, after, 256 * 1024);
    if (!page) return lines;
    lines.push(...page.lines);
    if (lines.length > count) lines.splice(0, lines.length - count);
    after = page.lastSeq;
  }
}
