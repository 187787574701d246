import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { MicroVmDeployer } from "../../../src/deploy/microvm/microvm-deployer.ts";
import { procStat } from "../../../src/deploy/microvm/proc-stat.ts";
import { RouteTable } from "../../../src/deploy/proxy/route-table.ts";

// A real image-to-disk conversion killed with SIGKILL mid-pull (its registry never answers): its
// tool dies with it, and the next start removes exactly what it left.
const APP_DISK = resolve("src/deploy/microvm/app-disk.ts");
const hex = "a".repeat(64);

/** The pids whose parent is `ppid` and whose name is `comm`. */
function childrenNamed(ppid: number, comm: string): number[] {
  return readdirSync("/proc").filter((n) => /^\d+$/.test(n)).filter((n) => {
    try {
      const stat = readFileSync(`/proc/${n}/stat`, "utf8");
      return stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")) === comm && stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1] === String(ppid);
    } catch {
      return false;
    }
  }).map(Number);
}

async function until<T>(what: string, get: () => T | null, ms = 60_000): Promise<T> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) {
    const v = get();
    if (v !== null) return v;
  }
  throw new Error(`waited ${ms} ms for ${what}`);
}

test("a conversion killed with -9 mid-pull: skopeo dies with microship, and the next start removes its work dir (auth file included) and lock dir", { timeout: 120_000 }, async (t) => {
  const root = mkdtempSync(join(tmpdir(), "ms-killed-conversion-"));
  const dir = join(root, "images");
  const held: Socket[] = [];
  const silent = createServer((s) => held.push(s)); // accepts, never answers: the pull hangs
  silent.listen(0, "127.0.0.1");
  await once(silent, "listening");
  const port = (silent.address() as { port: number }).port;
  const registry = `127.0.0.1:${port}`;
  const code = `import { ensureAppDisk } from ${JSON.stringify(APP_DISK)};
await ensureAppDisk({ dir: ${JSON.stringify(dir)}, imageRef: "${registry}/octo/shop@sha256:${hex}", digest: "sha256:${hex}", auth: { username: "u", password: "hunter2" }, insecureRegistries: ["${registry}"] });`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", code], { stdio: "ignore" });
  t.after(() => {
    child.kill("SIGKILL");
    for (const s of held) s.destroy();
    silent.close();
    rmSync(root, { recursive: true, force: true });
  });

  const [skopeo] = await until("skopeo to start", () => {
    const found = childrenNamed(child.pid!, "skopeo");
    return found.length > 0 ? found : null;
  });
  const work = readdirSync(dir).find((n) => n.startsWith(`${hex}.tmp-${child.pid}-`));
  assert.ok(work && existsSync(join(dir, work, "auth.json")), `the work dir holds the registry's auth file: ${readdirSync(dir).join(", ")}`);
  assert.ok(existsSync(join(dir, `${hex}.lock`)));
  const started = procStat(skopeo!)!.startTime;
  child.kill("SIGKILL");
  await once(child, "exit");
  await until("skopeo to die with its parent", () => {
    const s = procStat(skopeo!);
    return !s || s.startTime !== started || s.state === "Z" ? true : null;
  });
  assert.deepEqual(readdirSync(dir).sort(), [`${hex}.lock`, work].sort(), "what a killed conversion leaves");

  const deployer = new MicroVmDeployer({ dataDir: join(root, "data"), stateDir: join(root, "state"), appDiskDir: dir, routes: new RouteTable({ domain: "localhost" }), idleCheckMs: 3_600_000 });
  await deployer.restored;
  assert.deepEqual(readdirSync(dir), [], "both are gone at the next start");
  await deployer.close();
});
