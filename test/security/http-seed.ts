/** Builds planted straight in a running app's store, with the log lines a test wants on its page. */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { LogLine } from "../../src/core/builder.ts";
import { emptyOutcome } from "../../src/core/build.ts";
import { HmacLinks } from "../../src/http/links.ts";
import type { Store } from "../../src/core/store.ts";
import { buildRequest } from "../helpers/build-requests.ts";

/**
 * A finished build with `lines` as its log, written as it ended. Submitted and completed without yielding to timers,
 * so the app's workers never pick it up.
 */
export async function seedBuild(store: Store, lines: LogLine[], completedAt = Date.now()): Promise<string> {
  const submitted = await store.submit(buildRequest({ sha: randomBytes(20).toString("hex") }));
  if (submitted.kind !== "created") throw new Error("expected a new build");
  await store.complete(submitted.build.id, "failure", emptyOutcome("failure", "Build failed"), completedAt);
  for (let i = 0; i < lines.length; i += 500) await store.appendLog(submitted.build.id, lines.slice(i, i + 500), completedAt);
  return submitted.build.id;
}

export const line = (text: string, stream: LogLine["stream"] = "stdout"): LogLine => ({ ts: Date.now(), stream, text });

/** The links of an app whose key is the random one it keeps in its data dir. */
export function linksOf(dataDir: string, base: string, days = 30, now: () => number = Date.now): HmacLinks {
  return new HmacLinks(readFileSync(join(dataDir, "log-link.key")), base, days, now);
}

/** The path and query of a details link, to ask the app under test for. */
export const pathOf = (url: string) => url.replace(/^https?:\/\/[^/]+/, "");
