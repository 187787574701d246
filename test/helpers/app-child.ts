/**
 * microship in a child process, so a test can kill it mid-build with SIGKILL. The builder is
 * scripted by MS_CHILD_BUILDER: "hang" never finishes, "ok" succeeds at once, "steady" logs a
 * line a second for MS_CHILD_STEADY_SECONDS and then succeeds. MS_CHILD_PROGRESS_MS sets the
 * live tail interval (tests shorten it; the benchmark keeps the production 5 s).
 */
import { startMicroship } from "../../src/main.ts";
import { loadEnv } from "../../src/config/env.ts";
import { ScriptedBuilder, emptyArchiver, fixedPlanner, namer, waitForAbort } from "./pipeline-doubles.ts";

const mode = process.env.MS_CHILD_BUILDER ?? "ok";
const builder = new ScriptedBuilder(async (input, log) => {
  log(`child ${process.pid} building ${input.tags[0]} (${mode})`);
  if (mode === "hang") return waitForAbort(input.signal);
  if (mode === "steady") {
    const seconds = Number(process.env.MS_CHILD_STEADY_SECONDS ?? 120);
    for (let i = 0; i < seconds; i++) {
      log(`step ${i}: still building`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  return { digest: `sha256:${"c".repeat(64)}` };
});
const app = await startMicroship(loadEnv(process.env), { builder, planner: fixedPlanner(), archiver: emptyArchiver, images: namer, progressIntervalMs: Number(process.env.MS_CHILD_PROGRESS_MS ?? (mode === "steady" ? 5_000 : 200)), pollMs: 200, leaseMs: 1_500 });
process.stdout.write(`READY ${app.url}\n`);
