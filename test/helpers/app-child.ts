/**
 * microship in a child process, so a test can kill it mid-build with SIGKILL or watch its RSS.
 * The builder is scripted by MS_CHILD_BUILDER: "hang" never finishes, "ok" succeeds at once,
 * "steady" logs a line a second for MS_CHILD_STEADY_SECONDS and then succeeds, "flood" prints
 * what a hostile build would (see floodBuilder). MS_CHILD_PROGRESS_MS sets the live tail
 * interval (tests shorten it; the benchmark keeps the production 5 s). MS_CHILD_REAL_SOURCE=1
 * uses the real planner and archiver, so a repository's own files reach the build.
 * MS_CHILD_MEM_TRACE=1 prints the process's memory use to stderr twice a second.
 * MS_CHILD_LEASE_MS sets the lease (1.5 s; a heartbeat every third of it), MS_CHILD_POLL_MS the poll (200 ms).
 */
import { startMicroship } from "../../src/main.ts";
import { loadEnv } from "../../src/config/env.ts";
import type { Builder, BuildInput } from "../../src/core/builder.ts";
import { LineSplitter, LogChannel } from "../../src/builder/log-lines.ts";
import { ScriptedBuilder, emptyArchiver, fixedPlanner, namer, waitForAbort } from "./pipeline-doubles.ts";

const mode = process.env.MS_CHILD_BUILDER ?? "ok";
const scripted = new ScriptedBuilder(async (input, log) => {
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
/**
 * A build whose Dockerfile mentions "flood" prints, the way real builders deliver it (bytes in
 * reads of MS_CHILD_FLOOD_CHUNK, 1 MiB by default, through a LineSplitter, with the event loop
 * free between reads): a 64 MiB line with no newline, `bytes` of ordinary lines, and a last
 * 64 MiB line, so the end of the log (the check run's text) shows a cut too. Other builds
 * succeed at once.
 */
function floodBuilder(bytes: number, chunkBytes: number): Builder {
  const longLine = 64 * 1024 * 1024;
  const line = (n: number) => `#${String(n).padStart(3, "0")} RUN yes flood | head: ${"flood ".repeat(16)}\n`;
  const lines = Buffer.from(Array.from({ length: Math.ceil(chunkBytes / line(0).length) }, (_, i) => line(i)).join("").slice(0, chunkBytes - (chunkBytes % line(0).length)));
  const long = Buffer.alloc(chunkBytes, "x");
  async function print(input: BuildInput, out: LineSplitter): Promise<void> {
    const feed = async (chunk: Buffer) => {
      input.signal.throwIfAborted();
      out.write(chunk);
      await new Promise(setImmediate);
    };
    for (let n = 0; n < longLine; n += long.length) await feed(long);
    await feed(Buffer.from("\n"));
    for (let sent = 0; sent < bytes; sent += lines.length) await feed(sent + lines.length <= bytes ? lines : lines.subarray(0, bytes - sent));
    for (let n = 0; n < longLine; n += long.length) await feed(long);
    out.end();
  }
  return {
    name: "flood",
    describe: () => "a test builder that floods its log",
    build(input) {
      const logs = new LogChannel();
      const out = new LineSplitter("stdout", (l) => logs.push(l));
      const printed = input.dockerfile.includes("flood") ? print(input, out) : Promise.resolve();
      const result = printed.then(() => ({
        imageRef: `${input.imageName}@sha256:${"f".repeat(64)}`, digest: `sha256:${"f".repeat(64)}`, tags: input.tags, sizeBytes: 1,
        provenance: { sourceHash: input.source.sha256, lockfileHashes: {}, baseImageDigest: null, builderVersion: "test" },
        timings: { buildMs: 1, pushMs: 1 },
      })).finally(() => logs.close());
      return { logs, result };
    },
  };
}

const builder: Builder = mode === "flood" ? floodBuilder(Number(process.env.MS_CHILD_FLOOD_BYTES ?? 1e9), Number(process.env.MS_CHILD_FLOOD_CHUNK ?? 1024 * 1024)) : scripted;
const source = process.env.MS_CHILD_REAL_SOURCE === "1" ? {} : { planner: fixedPlanner(), archiver: emptyArchiver };
const app = await startMicroship(loadEnv(process.env), { builder, ...source, images: namer, progressIntervalMs: Number(process.env.MS_CHILD_PROGRESS_MS ?? (mode === "steady" ? 5_000 : 200)), pollMs: Number(process.env.MS_CHILD_POLL_MS ?? 200), leaseMs: Number(process.env.MS_CHILD_LEASE_MS ?? 1_500) });
process.stdout.write(`READY ${app.url}\n`);
// Tells where a test's RSS went: the live heap, or what the collector has not taken back yet.
if (process.env.MS_CHILD_MEM_TRACE) {
  const mib = (n: number) => (n / 1024 / 1024).toFixed(0);
  setInterval(() => {
    const m = process.memoryUsage();
    process.stderr.write(`MEM rss ${mib(m.rss)} heapUsed ${mib(m.heapUsed)} heapTotal ${mib(m.heapTotal)} external ${mib(m.external)}\n`);
  }, 500).unref();
}
