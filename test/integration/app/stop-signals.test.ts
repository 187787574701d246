import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// How an operator stops microship: a supervisor's SIGTERM to `npm start` (npm is the process it
// knows), or Ctrl-C, which the terminal sends to the whole group and npm passes on again.
const ROOT = new URL("../../../", import.meta.url).pathname;

function world() {
  const root = mkdtempSync(join(tmpdir(), "ms-stop-signals-"));
  const keyPath = join(root, "app.pem");
  writeFileSync(keyPath, generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" }), { mode: 0o600 });
  // Nothing slow to start: the host builder, no deployer; the embedded registry stays, so a stop has a child to wait for.
  const env = { PATH: process.env.PATH ?? "", APP_ID: "1", PRIVATE_KEY_PATH: keyPath, WEBHOOK_SECRET: "s", MICROSHIP_DATA_DIR: join(root, "data"), PORT: "0", HOST: "127.0.0.1", MICROSHIP_BUILDER: "host", MICROSHIP_DEPLOYER: "none" };
  return { root, env, done: () => rmSync(root, { recursive: true, force: true }) };
}

function start(cmd: string, args: string[], env: Record<string, string>, detached = false) {
  const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"], detached });
  let out = "";
  const waiters: [RegExp, () => void][] = [];
  const look = (c: Buffer) => {
    out += c;
    for (const [re, ok] of waiters) if (re.test(out)) ok();
  };
  child.stdout!.on("data", look);
  child.stderr!.on("data", look);
  const seen = (re: RegExp) => new Promise<void>((ok) => (re.test(out) ? ok() : waiters.push([re, ok])));
  const exited = new Promise<{ code: number | null; signal: string | null }>((ok) => child.once("exit", (code, signal) => ok({ code, signal })));
  return { child, seen, exited, out: () => out };
}

/** Some process of the group still runs (npm, its shell, microship). */
const groupAlive = (pgid: number) => { try { process.kill(-pgid, 0); return true; } catch { return false; } };

test("a second signal while microship stops is ignored: it finishes its stop and exits 0", { timeout: 60_000 }, async () => {
  const w = world();
  const app = start(process.execPath, ["src/main.ts"], w.env);
  try {
    await app.seen(/microship listening on port/);
    app.child.kill("SIGINT");
    await app.seen(/SIGINT: stopping microship/);
    app.child.kill("SIGINT");
    assert.deepEqual(await app.exited, { code: 0, signal: null }, app.out());
    assert.equal(app.out().match(/stopping microship/g)?.length, 1);
  } finally {
    if (app.child.exitCode === null && app.child.signalCode === null) app.child.kill("SIGKILL");
    w.done();
  }
});

test("npm start: a SIGTERM to npm alone reaches microship, which stops and exits 0; no microship is left behind", { timeout: 60_000 }, async () => {
  const w = world();
  // Its own process group, so nothing of it outlives a failed test.
  const npm = start("npm", ["start"], w.env, true);
  try {
    await npm.seen(/microship listening on port/);
    npm.child.kill("SIGTERM");
    assert.deepEqual(await npm.exited, { code: 0, signal: null }, npm.out());
    assert.match(npm.out(), /SIGTERM: stopping microship/);
    // npm waited for microship; a shell between them would have died and left it running, orphaned.
    assert.equal(groupAlive(npm.child.pid!), false, "nothing of npm start is left running");
  } finally {
    try { process.kill(-npm.child.pid!, "SIGKILL"); } catch { /* all gone */ }
    w.done();
  }
});
