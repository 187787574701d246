import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type Hypeman from "@onkernel/hypeman";
import { followBuild } from "../../src/builder/hypeman/follow-build.ts";
import { listenLogChannel } from "../../src/builder/microvm/log-channel.ts";
import { runStreaming } from "../../src/builder/host/run-streaming.ts";
import { MAX_LINE_CHARS } from "../../src/core/log-text.ts";
import type { LogLine } from "../../src/core/builder.ts";

// Each builder hands the build's output to microship its own way; on each, a build that prints
// one enormous line must reach the log as a cut line, without the line ever being held whole.
const MiB = 1024 * 1024;
const LONGEST = MAX_LINE_CHARS + 48;
const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const scratch = () => {
  const d = mkdtempSync(join(tmpdir(), "ms-logb-"));
  dirs.push(d);
  return d;
};

test("host builder: a command printing 64 MiB without a newline gives one cut line", async () => {
  const lines: LogLine[] = [];
  const heap0 = process.memoryUsage().heapUsed;
  let peak = heap0;
  const result = await runStreaming("/bin/sh", ["-c", "head -c 67108864 /dev/zero | tr '\\0' x; echo; echo done"], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    spoolDir: scratch(),
    signal: new AbortController().signal,
    onLine: (l) => {
      lines.push(l);
      peak = Math.max(peak, process.memoryUsage().heapUsed);
    },
  });
  assert.equal(result.exitCode, 0);
  assert.deepEqual(lines.map((l) => l.text.length <= LONGEST), [true, true]);
  assert.equal(lines[0]!.text, "x".repeat(MAX_LINE_CHARS) + ` … [line cut: ${64 * MiB - MAX_LINE_CHARS} bytes]`);
  assert.equal(lines[1]!.text, "done");
  assert.ok(peak - heap0 < 48 * MiB, `heap grew by ${Math.round((peak - heap0) / MiB)} MiB`);
});

test("microVM log channel: 64 MiB without a newline over the socket gives one cut line", async () => {
  const lines: LogLine[] = [];
  const path = join(scratch(), "log.sock");
  const server = await listenLogChannel(path, (l) => lines.push(l));
  const socket = connect(path);
  await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  const chunk = Buffer.alloc(MiB, "v");
  for (let i = 0; i < 64; i++) {
    if (!socket.write(chunk)) await new Promise((r) => socket.once("drain", r));
  }
  socket.end("\nafter\n");
  await server.drained(10_000);
  await server.close();
  assert.deepEqual(lines.map((l) => l.text), ["v".repeat(MAX_LINE_CHARS) + ` … [line cut: ${64 * MiB - MAX_LINE_CHARS} bytes]`, "after"]);
});

test("Hypeman: an event carrying a 10 MiB line reaches the builder with that line cut", async () => {
  const events = [
    { type: "log", timestamp: "2026-12-03T00:00:00Z", content: "first\n" + "h".repeat(10 * MiB) + "\nlast" },
    { type: "status", timestamp: "2026-12-03T00:00:01Z", status: "ready" },
  ];
  const client = {
    builds: {
      get: async () => ({ id: "b1", status: "ready" }),
      events: async () => (async function* () {
        yield* events;
      })(),
    },
  } as unknown as Hypeman;
  const got: string[] = [];
  await followBuild(client, "b1", {
    signal: new AbortController().signal,
    onLog: (ev) => got.push(...(ev.content ?? "").split("\n")),
    onStatus: () => undefined,
    idleMs: 5_000,
    backoffMs: 10,
    reconnects: 1,
    pollMs: 1_000,
  });
  assert.deepEqual(got.map((l) => l.length <= LONGEST), [true, true, true]);
  assert.equal(got[0], "first");
  assert.equal(got[1], "h".repeat(MAX_LINE_CHARS) + ` … [line cut: ${10 * MiB - MAX_LINE_CHARS} bytes]`);
  assert.equal(got[2], "last");
});
