import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { spawn } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmbeddedRegistry } from "../../../src/registry/embedded-registry.ts";
import { isMicroshipError } from "../../../src/core/errors.ts";
import { quietLog } from "../../helpers/pipeline-doubles.ts";
import { leftoverProcesses } from "../../helpers/contract-probes.ts";
import { basicAuth } from "../../../src/registry/registry-client.ts";

async function until<T>(fn: () => Promise<T | null>, ms: number): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn().catch(() => null);
    if (v !== null) return v;
    if (Date.now() - t0 > ms) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 100));
  }
}

test("the embedded registry answers on loopback, keeps its data under the data dir, restarts when killed, and stops", async () => {
  const dir = await mkdtemp(join(tmpdir(), "ms-registry-"));
  const reg = await startEmbeddedRegistry({ dataDir: dir, log: quietLog });
  const headers = basicAuth(reg.auth);
  try {
    assert.match(reg.address, /^127\.0\.0\.1:\d+$/);
    assert.equal((await fetch(`http://${reg.address}/v2/`, { headers })).status, 200);
    // An upload lands in our storage, nowhere else.
    const up = await fetch(`http://${reg.address}/v2/t/blobs/uploads/`, { method: "POST", headers });
    assert.equal(up.status, 202);
    assert.ok(existsSync(join(dir, "registry", "data", "docker")));

    const [pid] = (await leftoverProcesses([dir])).map((l) => Number(l.split(" ")[0]));
    assert.ok(pid, "the registry runs as a child process");
    process.kill(pid, "SIGKILL");
    const again = await until(async () => {
      const [p] = (await leftoverProcesses([dir])).map((l) => Number(l.split(" ")[0]));
      const r = await fetch(`http://${reg.address}/v2/`, { headers });
      return p && p !== pid && r.status === 200 ? p : null;
    }, 15_000);
    assert.notEqual(again, pid);
  } finally {
    await reg.stop();
  }
  assert.deepEqual(await leftoverProcesses([dir]), [], "stop() leaves no registry process");
  await assert.rejects(fetch(`http://${reg.address}/v2/`));
  await rm(dir, { recursive: true, force: true });
});

test("a fixed port that is taken fails as an infra error naming the fix", async () => {
  const dir = await mkdtemp(join(tmpdir(), "ms-registry-"));
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
  const port = (blocker.address() as { port: number }).port;
  try {
    await assert.rejects(startEmbeddedRegistry({ dataDir: dir, log: quietLog, port }), (err) => isMicroshipError(err) && err.kind === "infra" && /docker-registry|MICROSHIP_REGISTRY/.test(err.hint ?? ""));
    assert.deepEqual(await leftoverProcesses([dir]), []);
  } finally {
    blocker.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test("a registry never outlives a parent killed with SIGKILL", async () => {
  const dir = await mkdtemp(join(tmpdir(), "ms-registry-"));
  const script = `
    import { startEmbeddedRegistry } from ${JSON.stringify(new URL("../../../src/registry/embedded-registry.ts", import.meta.url).href)};
    const noop = () => {};
    const log = { info: noop, warn: noop, error: noop, debug: noop, child: () => log };
    const r = await startEmbeddedRegistry({ dataDir: ${JSON.stringify(dir)}, log });
    process.stdout.write(r.address + "\\n");
    setInterval(noop, 1000);
  `;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    const address = await new Promise<string>((resolve, reject) => {
      child.stdout.once("data", (c) => resolve(String(c).trim()));
      child.once("exit", (code) => reject(new Error(`the child exited with ${code}`)));
    });
    // Up, and asking for credentials.
    assert.equal((await fetch(`http://${address}/v2/`)).status, 401);
    child.kill("SIGKILL");
    assert.deepEqual(await until(async () => ((await leftoverProcesses([dir])).length === 0 ? [] : null), 10_000), []);
  } finally {
    child.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
  }
});
