import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runVm } from "../../../src/builder/microvm/run-vm.ts";
import type { LogLine } from "../../../src/core/builder.ts";

// A stand-in for QEMU: a real process whose serial console (stdout) is the given script's.
function fakeQemu(dir: string, script: string): string {
  const path = join(dir, "qemu");
  writeFileSync(path, `#!/bin/sh\n${script}\n`);
  chmodSync(path, 0o755);
  return path;
}

async function boot(script: string, limits: { bootDeadlineMs?: number; deadlineMs: number }) {
  const dir = mkdtempSync(join(tmpdir(), "ms-runvm-"));
  const lines: LogLine[] = [];
  try {
    const t0 = Date.now();
    const out = await runVm({
      qemu: fakeQemu(dir, script), args: [], resultSocket: join(dir, "r.sock"), logSocket: join(dir, "l.sock"),
      onLine: (l) => lines.push(l), signal: new AbortController().signal, ...limits,
    });
    return { out, lines, ms: Date.now() - t0 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("a guest that never reaches init's booted line is killed at the boot deadline, not the build's", async () => {
  const r = await boot("echo 'tsc: Marking TSC unstable'; exec sleep 600", { bootDeadlineMs: 500, deadlineMs: 60_000 });
  assert.equal(r.out.killedBy, "boot");
  assert.equal(r.out.result, null);
  assert.ok(r.ms < 10_000, `took ${r.ms} ms`);
  assert.ok(r.lines.some((l) => l.text.includes("tsc: Marking TSC unstable")), "the console lines still reach the log");
});

test("once booted, only the build's own deadline applies", async () => {
  const r = await boot("printf 'microvm: booted in 2.31s\\r\\n'; exec sleep 600", { bootDeadlineMs: 300, deadlineMs: 1_500 });
  assert.equal(r.out.killedBy, "deadline");
  assert.ok(r.ms >= 1_400, `killed after ${r.ms} ms, before the build's deadline`);
});
