import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FileSpec } from "../fakes/github/git-repos.ts";
import { startHarness, OWNER, REPO, type Harness } from "../helpers/microship-harness.ts";
import { ScriptedBuilder, namer } from "../helpers/pipeline-doubles.ts";

/**
 * The app as it runs, with the real checkout, config reader, detection and archiver; only the
 * builder is scripted (it succeeds), so whatever stops a hostile repository is microship's own code.
 */
export async function startRepoHarness(): Promise<{ h: Harness; builder: ScriptedBuilder }> {
  const builder = new ScriptedBuilder(async () => ({ digest: `sha256:${"e".repeat(64)}` }));
  const h = await startHarness({ builder, images: namer });
  return { h, builder };
}

export interface CompletedRun {
  conclusion: string | null;
  /** Title, summary and text of the check run, and the full log page. */
  everything: string;
}

/** Commits `files` on `branch`, sends the signed push, and waits for the completed check run. */
export function pushAndWait(h: Harness, branch: string, files: Record<string, FileSpec>, timeoutMs = 30_000): Promise<CompletedRun> {
  return sendAndWait(h, h.fake.commit({ owner: OWNER, repo: REPO, branch, files }), branch, timeoutMs);
}

/** Sends the signed push of a commit already in the fake, and waits for the completed check run. */
export async function sendAndWait(h: Harness, sha: string, branch: string, timeoutMs = 30_000): Promise<CompletedRun> {
  const probe = probeHealth(h.app.url);
  const res = await h.send("push", h.pushPayload({ sha, branch }));
  if (res.status !== 200) throw new Error(`webhook answered ${res.status}`);
  const run = await h.fake.waitFor(() => h.fake.checkRuns(OWNER, REPO).find((r) => r.head_sha === sha && r.status === "completed"), timeoutMs, `the check run of ${branch}`).finally(() => probe.stop());
  // The bound is 100 ms. A hostile repository must never stall the app: no answer may take
  // a second while it is handled, and right after, /healthz answers within 100 ms (best of three,
  // as one scheduler hiccup on a shared two-core machine is not a stall).
  const slowest = await probe.done;
  if (slowest > 1_000) throw new Error(`/healthz took ${slowest.toFixed(0)} ms while ${branch} was handled`);
  const after = Math.min(await healthMs(h.app.url), await healthMs(h.app.url), await healthMs(h.app.url));
  if (after > 100) throw new Error(`/healthz took ${after.toFixed(0)} ms after ${branch} was handled`);
  const page = await fetch(run.details_url!.replace("http://microship.test", h.app.url)).then((r) => r.text());
  const history = run.history.map((u) => JSON.stringify(u.body)).join("\n");
  return { conclusion: run.conclusion, everything: [run.output.title, run.output.summary, run.output.text, page, history].join("\n") };
}

/** A directory outside every checkout, standing in for the host's files. */
export function hostDir(t: { after(fn: () => void): void }): string {
  const d = mkdtempSync(join(tmpdir(), "ms-host-"));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

async function healthMs(url: string): Promise<number> {
  const t0 = performance.now();
  const r = await fetch(`${url}/healthz`);
  await r.text();
  if (r.status !== 200) throw new Error(`/healthz answered ${r.status}`);
  return performance.now() - t0;
}

/** Asks /healthz every 50 ms until stopped; `done` is the slowest answer. */
function probeHealth(url: string): { stop(): void; done: Promise<number> } {
  let stopped = false;
  const done = (async () => {
    let slowest = 0;
    while (!stopped) {
      slowest = Math.max(slowest, await healthMs(url));
      await new Promise((r) => setTimeout(r, 50));
    }
    return slowest;
  })();
  return { stop: () => void (stopped = true), done };
}
