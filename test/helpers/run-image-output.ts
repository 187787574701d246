import { execFile, spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { randomBytes } from "node:crypto";
import type { RegistryCredential } from "../../src/core/ports.ts";

const run = promisify(execFile);

/**
 * Runs an image from a registry to completion and returns what it printed (stdout and stderr).
 * The way that works on a machine without a Docker engine (docs/design.md section 11): skopeo copy to an OCI layout, umoci unpack, runc run.
 * The container is killed if it outlives `timeoutMs`, and nothing is left behind.
 */
export async function runImageOutput(ref: string, o: { timeoutMs?: number; args?: string[]; auth?: RegistryCredential | null } = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "ms-run-once-"));
  const id = `ms-run-${randomBytes(4).toString("hex")}`;
  try {
    await run("skopeo", ["copy", "-q", "--src-tls-verify=false", ...(o.auth ? ["--src-creds", `${o.auth.username}:${o.auth.password}`] : []), `docker://${ref}`, `oci:${join(dir, "layout")}:img`]);
    await run("umoci", ["unpack", "--image", `${join(dir, "layout")}:img`, join(dir, "bundle")]);
    const configPath = join(dir, "bundle", "config.json");
    const config = JSON.parse(await readFile(configPath, "utf8"));
    config.process.terminal = false;
    if (o.args) config.process.args = o.args;
    await writeFile(configPath, JSON.stringify(config));
    return await new Promise<string>((resolve, reject) => {
      let out = "";
      const child = spawn("runc", ["run", id], { cwd: join(dir, "bundle"), stdio: ["ignore", "pipe", "pipe"] });
      child.stdout.on("data", (c) => (out += c));
      child.stderr.on("data", (c) => (out += c));
      const timer = setTimeout(() => run("runc", ["kill", id, "KILL"]).catch(() => undefined), o.timeoutMs ?? 30_000);
      child.on("error", reject);
      child.on("close", (code) => {
        clearTimeout(timer);
        if (code === 0) resolve(out);
        else reject(new Error(`runc run exited with ${code}: ${out.slice(-2000)}`));
      });
    });
  } finally {
    await run("runc", ["delete", "--force", id]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}
