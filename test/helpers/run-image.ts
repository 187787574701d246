import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import { promisify } from "node:util";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import assert from "node:assert/strict";
import type { RegistryCredential } from "../../src/core/ports.ts";
import { freePort } from "../../src/registry/free-port.ts";

export interface RunningImage {
  output(): string;
  stop(): Promise<void>;
}

/**
 * Runs an image from a registry the way that works without a Docker engine (docs/design.md section 11): skopeo copy to an OCI
 * layout, umoci unpack (as root, keeping owners), runc. The container shares the host's network
 * namespace so a test can reach its port on loopback. The pull is asynchronous: the embedded
 * registry's front runs in the test's own process when the app does.
 */
export async function runImage(ref: string, env: Record<string, string> = {}, auth?: RegistryCredential | null): Promise<RunningImage> {
  const run = promisify(execFile);
  const dir = mkdtempSync(join(tmpdir(), "ms-run-"));
  const id = `ms-e2e-${randomBytes(4).toString("hex")}`;
  await run("skopeo", ["copy", "-q", "--src-tls-verify=false", ...(auth ? ["--src-creds", `${auth.username}:${auth.password}`] : []), `docker://${ref}`, `oci:${join(dir, "layout")}:img`]);
  await run("umoci", ["unpack", "--image", `${join(dir, "layout")}:img`, join(dir, "bundle")]);
  const configPath = join(dir, "bundle", "config.json");
  const config = JSON.parse(readFileSync(configPath, "utf8"));
  config.process.terminal = false;
  config.process.env = [...(config.process.env ?? []).filter((e: string) => !Object.keys(env).some((k) => e.startsWith(`${k}=`))), ...Object.entries(env).map(([k, v]) => `${k}=${v}`)];
  config.linux.namespaces = config.linux.namespaces.filter((n: { type: string }) => n.type !== "network");
  // The host's resolver and hosts file, as a container engine would provide them.
  config.mounts.push({ destination: "/etc/resolv.conf", type: "bind", source: "/etc/resolv.conf", options: ["rbind", "ro"] });
  writeFileSync(configPath, JSON.stringify(config));
  let out = "";
  const child: ChildProcess = spawn("runc", ["run", id], { cwd: join(dir, "bundle"), stdio: ["ignore", "pipe", "pipe"] });
  child.stdout!.on("data", (c) => (out += c));
  child.stderr!.on("data", (c) => (out += c));
  return {
    output: () => out,
    async stop() {
      try {
        execFileSync("runc", ["kill", id, "KILL"], { stdio: "ignore" });
      } catch {
        // already exited
      }
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once("exit", r)));
      try {
        execFileSync("runc", ["delete", "--force", id], { stdio: "ignore" });
      } catch {
        // gone
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The first 2xx body of GET / on the port, asked every 250 ms while the app starts; "" if none came in time. */
export async function firstBody(port: number, timeoutMs: number): Promise<string> {
  for (let i = 0; i < timeoutMs / 250; i++) {
    await new Promise((r) => setTimeout(r, 250));
    const r = await fetch(`http://127.0.0.1:${port}/`).catch(() => null);
    if (r?.ok) return r.text();
  }
  return "";
}

/**
 * Runs the image a check run's summary names (`{registry}/{repo}@sha256:…`) with `$PORT` on a free
 * port: what each e2e test does once its build has succeeded.
 */
export async function runPushedImage(app: { registry: string; registryAuth?: RegistryCredential | null }, repo: string, summary: string): Promise<{ port: number; container: RunningImage }> {
  const digest = new RegExp(`${app.registry}/${repo}@(sha256:[0-9a-f]{64})`).exec(summary)?.[1];
  assert.ok(digest, summary);
  const port = await freePort();
  const container = await runImage(`${app.registry}/${repo}@${digest}`, { PORT: String(port) }, app.registryAuth);
  return { port, container };
}
