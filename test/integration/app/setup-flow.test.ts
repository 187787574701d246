import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../../src/registry/free-port.ts";

const ROOT = new URL("../../../", import.meta.url).pathname;

test("without credentials, `npm start` serves Probot's registration page built from app.yml", async () => {
  const port = await freePort();
  const dataDir = await mkdtemp(join(tmpdir(), "ms-setup-"));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root", PORT: String(port), HOST: "127.0.0.1",
    NO_SMEE_SETUP: "true", NODE_ENV: "development", MICROSHIP_DATA_DIR: dataDir, LOG_LEVEL: "warn",
  };
  const child = spawn(process.execPath, ["src/main.ts"], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (c) => (out += c));
  child.stderr.on("data", (c) => (out += c));
  try {
    let page = "";
    for (let i = 0; i < 100 && !page; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const res = await fetch(`http://127.0.0.1:${port}/probot`).catch(() => null);
      if (res?.ok) page = await res.text();
    }
    assert.ok(page, `no setup page; output:\n${out}`);
    assert.match(page, /Register GitHub App/);
    // The manifest posted to GitHub is app.yml's: our permissions and events, no installation events.
    const manifest = /name="manifest"[^>]*value='([^']+)'|value="([^"]+)"[^>]*name="manifest"|id="manifest"[^>]*value='([^']+)'/.exec(page);
    const json = manifest ? JSON.parse((manifest[1] ?? manifest[2] ?? manifest[3]!).replaceAll("&quot;", '"')) : null;
    assert.ok(json, "the page carries the app manifest");
    assert.deepEqual(json.default_permissions, { checks: "write", contents: "read", deployments: "write", metadata: "read", pull_requests: "write", issues: "write" });
    assert.deepEqual([...json.default_events].sort(), ["check_run", "check_suite", "deployment", "issue_comment", "pull_request", "push"]);
  } finally {
    child.kill("SIGKILL");
    await rm(dataDir, { recursive: true, force: true });
  }
});
