import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";

const MAIN = new URL("../../../src/main.ts", import.meta.url).pathname;

/** `node src/main.ts` as an operator runs it: its exit code and what it printed. */
function start(env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout!.on("data", (c) => (out += c));
    child.stderr!.on("data", (c) => (out += c));
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.once("exit", (code) => (clearTimeout(timer), resolve({ code, out })));
  });
}

test("with DATABASE_URL and no MICROSHIP_REGISTRY, start-up refuses the embedded registry and says why, before touching the database", async () => {
  // Nothing listens on this port: the refusal must come before any connection is tried.
  const { code, out } = await start({ DATABASE_URL: "postgres://u:hunter2secret@127.0.0.1:1/db", APP_ID: "1", PRIVATE_KEY: "x", WEBHOOK_SECRET: "s" });
  assert.equal(code, 2);
  assert.match(out, /MICROSHIP_REGISTRY: required with DATABASE_URL: replicas sharing one database must push to one registry, and the embedded registry lives in a single replica's data dir/);
  assert.doesNotMatch(out, /hunter2secret/);
});
