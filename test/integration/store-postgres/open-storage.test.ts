import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStorage } from "../../../src/open-storage.ts";
import { loadEnv } from "../../../src/config/env.ts";
import { redact } from "../../../src/core/redact.ts";
import type { OpLog } from "../../../src/core/ports.ts";
import { buildRequest } from "../../helpers/build-requests.ts";
import { startPostgresCluster } from "../../helpers/postgres-cluster.ts";

const cluster = await startPostgresCluster();
const dir = await mkdtemp(join(tmpdir(), "ms-open-storage-"));
after(async () => {
  await cluster.stop();
  await rm(dir, { recursive: true, force: true });
});

function recordingLog(lines: string[]): OpLog {
  const log: OpLog = {
    info: (o, m) => lines.push(`${JSON.stringify(o)} ${m ?? ""}`),
    warn: (o, m) => lines.push(`${JSON.stringify(o)} ${m ?? ""}`),
    error: (o, m) => lines.push(`${JSON.stringify(o)} ${m ?? ""}`),
    debug: () => {},
    child: () => log,
  };
  return log;
}

test("DATABASE_URL opens Postgres, migrated, and its password is a secret from then on", async () => {
  // The socket trusts every local user, so any password connects: it is there to be redacted.
  const url = (await cluster.database()).replace("postgres@", "postgres:s3cret-pg-pass%21@");
  const lines: string[] = [];
  const storage = await openStorage(loadEnv({ DATABASE_URL: url, MICROSHIP_REGISTRY: "registry.example.com/team" }), dir, recordingLog(lines));
  try {
    assert.equal(storage.kind, "postgres");
    assert.equal((await storage.store.submit(buildRequest())).kind, "created");
    assert.equal(await storage.queue.depth(), 1);
    assert.ok(lines.some((l) => l.includes("Postgres schema migrated")));
    assert.ok(lines.some((l) => l.includes("without MICROSHIP_LOG_SECRET")), "warned that log links won't cross replicas");
    assert.equal(redact(`connecting to ${url} with s3cret-pg-pass! or s3cret-pg-pass%21`).includes("s3cret-pg-pass"), false);
    assert.equal(existsSync(join(dir, "microship.sqlite")), false, "no SQLite file beside it");
  } finally {
    await storage.close();
  }
});

test("without DATABASE_URL the embedded SQLite file is the store", async () => {
  const storage = await openStorage(loadEnv({}), dir, recordingLog([]));
  try {
    assert.equal(storage.kind, "sqlite");
    assert.equal((await storage.store.submit(buildRequest())).kind, "created");
    assert.ok(existsSync(join(dir, "microship.sqlite")));
  } finally {
    await storage.close();
  }
});

test("an unreachable Postgres stops start-up with an error, not a hang", async () => {
  const url = `postgresql://postgres@localhost/nope?host=${encodeURIComponent(join(dir, "no-socket-here"))}`;
  await assert.rejects(openStorage(loadEnv({ DATABASE_URL: url, MICROSHIP_REGISTRY: "registry.example.com/team" }), dir, recordingLog([])), /ENOENT|connect/);
});
