import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// Probot's setup flow writes the credentials to .env in the working directory, and the README says
// to start again. That start must read them, not run the setup flow a second time.
const MAIN = new URL("../../../src/main.ts", import.meta.url).pathname;

test("a start in a directory whose .env holds the app's credentials runs microship, not the setup flow", { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "ms-dot-env-start-"));
  const pem = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" }) as string;
  writeFileSync(join(dir, ".env"), [
    "APP_ID=4242", `PRIVATE_KEY=${pem.replace(/\n/g, "\\n")}`, "WEBHOOK_SECRET=from-the-setup-flow",
    `MICROSHIP_DATA_DIR=${join(dir, "data")}`, "PORT=0", "HOST=127.0.0.1", "MICROSHIP_BUILDER=host", "MICROSHIP_DEPLOYER=none",
  ].join("\n"), { mode: 0o600 });
  const child = spawn(process.execPath, [MAIN], { cwd: dir, env: { PATH: process.env.PATH ?? "" }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const started = new Promise<void>((ok) => {
    const look = (c: Buffer) => {
      out += c;
      if (/microship listening on port|setup flow|Invalid environment/.test(out)) ok();
    };
    child.stdout.on("data", look);
    child.stderr.on("data", look);
    child.once("exit", () => ok());
  });
  try {
    await started;
    assert.match(out, /microship listening on port/, out.slice(0, 2000));
    assert.doesNotMatch(out, /setup flow/);
    const exited = new Promise((ok) => child.once("exit", ok));
    child.kill("SIGTERM");
    await exited;
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
});
