import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

// The CLI works on the server's own store: where the server's settings live in .env (as the setup
// flow leaves them), the CLI must read them too, or `secrets set` writes to another data dir.
const CLI = fileURLToPath(new URL("../../../src/cli/main.ts", import.meta.url));

test("the CLI reads .env from its working directory: `secrets list` opens the data dir it names", { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "ms-cli-dot-env-"));
  try {
    const dataDir = join(dir, "from-dot-env");
    writeFileSync(join(dir, ".env"), `MICROSHIP_DATA_DIR=${dataDir}\n`);
    const child = spawn(process.execPath, [CLI, "secrets", "list", "octo-org/shop"], { cwd: dir, env: { PATH: process.env.PATH ?? "" }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const code = await new Promise((ok) => child.on("close", ok));
    assert.equal(code, 0, out);
    assert.match(out, /octo-org\/shop has no secrets/);
    assert.ok(existsSync(join(dataDir, "microship.sqlite")), "the store is in .env's data dir");
    assert.ok(!existsSync(join(dir, "data")), "not in the default ./data");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
