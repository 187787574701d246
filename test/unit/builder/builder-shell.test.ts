import { test } from "node:test";
import assert from "node:assert/strict";
import type { BuildInput, BuildOutput, LogLine } from "../../../src/core/builder.ts";
import { MicroshipError, infraError, isMicroshipError, userError } from "../../../src/core/errors.ts";
import { BuilderShell, TAIL_LINES, type BuildBackend, type BuildIO } from "../../../src/builder/builder-shell.ts";
import { driveBuild } from "../../helpers/drive-build.ts";

const OUTPUT: BuildOutput = {
  imageRef: "r/x@sha256:0", digest: "sha256:0", tags: ["t"], sizeBytes: null, timings: { buildMs: 0, pushMs: 0 },
  provenance: { sourceHash: "s", lockfileHashes: {}, baseImageDigest: null, builderVersion: "scripted" },
};

const input = (over: Partial<BuildInput> = {}): BuildInput => ({
  buildId: "b1", source: { open: () => { throw new Error("unused"); }, path: "/nonexistent", sha256: "s", sizeBytes: 0, fileCount: 0 },
  dockerfile: "FROM scratch\n", imageName: "r/x", tags: ["t"], buildArgs: {}, cacheScope: "o/r", untrusted: false, registryAuth: null,
  noCache: false, timeoutSeconds: 300, secrets: [], runtime: null, baseImageDigest: null, signal: new AbortController().signal, ...over,
});

/** A backend that runs the given script; it sees what the shell hands it. */
function scripted(run: (input: BuildInput, io: BuildIO) => Promise<BuildOutput>, extra: Partial<BuildBackend> = {}): BuildBackend {
  return { name: "scripted", describe: () => "a script", run, unexpected: (err) => infraError(`scripted failed: ${String(err)}`), ...extra };
}

const out = (text: string): LogLine => ({ ts: 1, stream: "stdout", text });
const untilAborted = (signal: AbortSignal) => new Promise<never>((_, reject) => signal.addEventListener("abort", () => reject(new Error("the backend's own view of the stop")), { once: true }));

test("every secret value and the registry password are masked in the lines, the longest first; short values are left alone", async () => {
  const shell = new BuilderShell(scripted(async (_i, io) => {
    io.line(out("token=abcd-1234 and abcd-1234-long, pw=hunter22, tiny=ab"));
    io.system("pushing with hunter22");
    return OUTPUT;
  }));
  const r = await driveBuild(shell, input({
    secrets: [{ id: "a", value: "abcd-1234" }, { id: "b", value: "abcd-1234-long" }, { id: "c", value: "ab" }],
    registryAuth: { username: "u", password: "hunter22" },
  }));
  assert.equal(r.error, null);
  assert.deepEqual(r.lines.map((l) => [l.stream, l.text]), [
    ["stdout", "token=*** and ***, pw=***, tiny=ab"],
    ["system", "pushing with ***"],
  ]);
});

test("the tail the backend builds its error from is masked, and so is whatever error it throws", async () => {
  let seen: string[] = [];
  const shell = new BuilderShell(scripted(async (_i, io) => {
    for (let n = 0; n < TAIL_LINES + 5; n++) io.line(out(`line ${n} sekrit-value`));
    seen = io.tail.map((l) => l.text);
    throw userError("STEP 2/2: RUN echo sekrit-value failed", { title: "sekrit-value step", hint: "fix sekrit-value", cause: new Error("sekrit-value") });
  }));
  const r = await driveBuild(shell, input({ secrets: [{ id: "s", value: "sekrit-value" }] }));
  assert.equal(seen.length, TAIL_LINES);
  assert.equal(seen[0], "line 5 ***");
  assert.ok(isMicroshipError(r.error));
  assert.equal(r.error.kind, "user");
  assert.equal(r.error.message, "STEP 2/2: RUN echo *** failed");
  assert.equal(r.error.title, "*** step");
  assert.equal(r.error.hint, "fix ***");
  assert.equal(r.error.cause, undefined, "the unmasked cause does not travel on");
});

test("an error with nothing to mask is passed on as it is", async () => {
  const thrown = userError("plain failure");
  const r = await driveBuild(new BuilderShell(scripted(async () => Promise.reject(thrown))), input({ secrets: [{ id: "s", value: "sekrit-value" }] }));
  assert.equal(r.error, thrown);
});

test("an untyped error becomes the backend's own infra error, masked", async () => {
  const r = await driveBuild(new BuilderShell(scripted(async () => Promise.reject(new Error("disk full near sekrit-value")))), input({ secrets: [{ id: "s", value: "sekrit-value" }] }));
  assert.ok(isMicroshipError(r.error));
  assert.equal(r.error.kind, "infra");
  assert.equal(r.error.message, "scripted failed: Error: disk full near ***");
});

test("a cancel aborts the backend's signal, and the build ends cancelled whatever the backend throws", async () => {
  const controller = new AbortController();
  const shell = new BuilderShell(scripted(async (i, io) => {
    io.line(out("started"));
    return untilAborted(i.signal);
  }));
  const r = await driveBuild(shell, input({ signal: controller.signal }), (l) => l.text === "started" && controller.abort());
  assert.ok(isMicroshipError(r.error));
  assert.equal(r.error.kind, "cancelled");
  assert.equal(r.error.title, "Build cancelled");
});

test("a signal aborted before the build starts reaches the backend aborted", async () => {
  const controller = new AbortController();
  controller.abort();
  let sawAborted = false;
  const r = await driveBuild(new BuilderShell(scripted(async (i) => {
    sawAborted = i.signal.aborted;
    return OUTPUT;
  })), input({ signal: controller.signal }));
  assert.ok(sawAborted);
  assert.equal(r.error, null, "a backend that finished anyway keeps its result");
});

test("the deadline, once started, ends the build with the one timeout error", async () => {
  const shell = new BuilderShell(scripted(async (i, io) => {
    io.startDeadline();
    return untilAborted(i.signal);
  }));
  const r = await driveBuild(shell, input({ timeoutSeconds: 0.05 }));
  assert.ok(isMicroshipError(r.error));
  assert.equal(r.error.kind, "timeout");
  assert.equal(r.error.message, "The build took longer than its 0.05 s limit.");
  assert.equal(r.error.title, "Build timed out after 0.05 s");
});

test("a cancel that comes first is not turned into a timeout by a later deadline", async () => {
  const controller = new AbortController();
  let stopped: unknown;
  const shell = new BuilderShell(scripted(async (i, io) => {
    controller.abort();
    io.startDeadline();
    await new Promise((res) => setTimeout(res, 100));
    stopped = i.signal.reason;
    throw new Error("late");
  }));
  const r = await driveBuild(shell, input({ signal: controller.signal, timeoutSeconds: 0.01 }));
  assert.ok(isMicroshipError(r.error) && r.error.kind === "cancelled");
  assert.equal(stopped, r.error);
});

test("close() stops the builds still running, waits for them, then closes the backend", async () => {
  const events: string[] = [];
  const shell = new BuilderShell(scripted(async (i) => {
    events.push("started");
    try {
      return await untilAborted(i.signal);
    } finally {
      await new Promise((res) => setTimeout(res, 50));
      events.push("cleaned up");
    }
  }, { close: async () => void events.push("backend closed") }));
  const pending = driveBuild(shell, input());
  await shell.close();
  events.push("close returned");
  const r = await pending;
  assert.deepEqual(events, ["started", "cleaned up", "backend closed", "close returned"]);
  assert.ok(r.error instanceof MicroshipError && r.error.kind === "cancelled");
  assert.equal(r.error.message, "The builder is shutting down.");
});

test("name and describe() are the backend's", () => {
  const shell = new BuilderShell(scripted(async () => OUTPUT));
  assert.equal(shell.name, "scripted");
  assert.equal(shell.describe(), "a script");
});
