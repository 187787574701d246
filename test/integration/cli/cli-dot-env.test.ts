import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { appCredentials } from "../../fakes/app-credentials.ts";
import { startGitHubFake } from "../../fakes/github/github-fake.ts";

// The CLI works on the server's own store: where the server's settings live in .env (as the setup
// flow leaves them), the CLI must read them too, or `secrets set` writes to another data dir and
// can't find the app's credentials to ask GitHub for the repository's id.
const CLI = fileURLToPath(new URL("../../../src/cli/main.ts", import.meta.url));

test("the CLI reads .env from its working directory: `secrets list` opens the data dir it names, with the app's credentials from it", { timeout: 30_000 }, async () => {
  const creds = appCredentials();
  const fake = await startGitHubFake({ appId: creds.appId, publicKeyPem: creds.publicKeyPem });
  fake.createRepo({ owner: "octo-org", repo: "shop", installationId: 77 });
  const dir = mkdtempSync(join(tmpdir(), "ms-cli-dot-env-"));
  try {
    const dataDir = join(dir, "from-dot-env");
    // The setup flow's form: the key double-quoted on one line, its newlines escaped.
    const key = JSON.stringify(creds.privateKeyPem);
    writeFileSync(join(dir, ".env"), [`MICROSHIP_DATA_DIR=${dataDir}`, `APP_ID=${creds.appId}`, `PRIVATE_KEY=${key}`, "WEBHOOK_SECRET=dot-env-webhook-secret", `GHE_HOST=${fake.host}`, "GHE_PROTOCOL=http", ""].join("\n"));
    const child = spawn(process.execPath, [CLI, "secrets", "list", "octo-org/shop"], { cwd: dir, env: { PATH: process.env.PATH ?? "" }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const code = await new Promise((ok) => child.on("close", ok));
    assert.equal(code, 0, out);
    assert.match(out, /octo-org\/shop \(repository id \d+\) has no secrets/);
    assert.ok(existsSync(join(dataDir, "microship.sqlite")), "the store is in .env's data dir");
    assert.ok(!existsSync(join(dir, "data")), "not in the default ./data");
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await fake.close();
  }
});
