/**
 * The Postgres schema, one entry per version, applied in order and never edited once released:
 * a change is a new version. Times are epoch milliseconds (BIGINT, as the SQLite store keeps
 * them); requests and outcomes are JSON text, so a NUL or any other byte a build printed is
 * stored as JSON escaped it (jsonb refuses \u0000).
 */
export const MIGRATIONS: readonly { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
CREATE TABLE builds (
  id TEXT PRIMARY KEY,
  installation_id BIGINT NOT NULL,
  owner TEXT NOT NULL,
  repo TEXT NOT NULL,
  sha TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  branch TEXT,
  pr_number INTEGER,
  is_default_branch BOOLEAN NOT NULL,
  untrusted BOOLEAN NOT NULL,
  request TEXT NOT NULL,
  state TEXT NOT NULL,
  conclusion TEXT,
  check_run_id BIGINT,
  cancel_requested BOOLEAN NOT NULL DEFAULT false,
  superseded_by TEXT,
  tries INTEGER NOT NULL DEFAULT 0,
  lease_owner TEXT,
  lease_expires_at BIGINT,
  created_at BIGINT NOT NULL,
  started_at BIGINT,
  completed_at BIGINT,
  outcome TEXT
);
CREATE UNIQUE INDEX builds_by_sha ON builds (owner, repo, sha, attempt);
CREATE INDEX builds_by_state ON builds (state, created_at);
CREATE INDEX builds_by_branch ON builds (owner, repo, branch, state);
CREATE INDEX builds_by_pr ON builds (owner, repo, pr_number, state);
CREATE INDEX builds_running ON builds (installation_id) WHERE state = 'running';
CREATE INDEX builds_ended ON builds (completed_at) WHERE state = 'completed';
CREATE INDEX builds_unopened ON builds (created_at) WHERE check_run_id IS NULL AND state <> 'completed';
CREATE TABLE deliveries (
  id TEXT PRIMARY KEY,
  event TEXT NOT NULL,
  build_id TEXT,
  received_at BIGINT NOT NULL
);
CREATE TABLE sha_prs (
  owner TEXT NOT NULL,
  repo TEXT NOT NULL,
  sha TEXT NOT NULL,
  pr TEXT NOT NULL,
  PRIMARY KEY (owner, repo, sha)
);
CREATE TABLE app_check_runs (
  build_id TEXT NOT NULL,
  app TEXT NOT NULL,
  check_run_id BIGINT NOT NULL,
  completed BOOLEAN NOT NULL DEFAULT false,
  PRIMARY KEY (build_id, app)
);
CREATE TABLE log_chunks (
  build_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  lines TEXT NOT NULL,
  PRIMARY KEY (build_id, seq)
);
`,
  },
  {
    // Which replica's host last claimed a build of each cache scope (core/stages/build.ts
    // cacheScope): the layer cache stays on the host that built, so the claim prefers it there.
    version: 2,
    sql: `
CREATE TABLE scope_hosts (
  scope TEXT PRIMARY KEY,
  host_id TEXT NOT NULL,
  claimed_at BIGINT NOT NULL
);
`,
  },
  {
    // microship's own secret store (store/postgres/pg-secret-rows.ts): AES-256-GCM ciphertexts
    // per GitHub repository id (a name can pass to another repository; an id can't), with the
    // `owner/repo` last seen for it, never a plaintext value.
    version: 3,
    sql: `
CREATE TABLE repo_secrets (
  repository_id BIGINT NOT NULL,
  repo TEXT NOT NULL,
  name TEXT NOT NULL,
  key_id TEXT NOT NULL,
  iv BYTEA NOT NULL,
  sealed BYTEA NOT NULL,
  updated_at BIGINT NOT NULL,
  updated_by TEXT NOT NULL,
  PRIMARY KEY (repository_id, name)
);
`,
  },
  {
    // When each log was last written: retention counts from it, since a later deploy of a build's
    // image writes to that build's log. The index on it finds the logs due without reading every
    // chunk. The trigger gives every new log its row even when a replica still running the older
    // code writes it (during a rolling upgrade); the code then moves it on with each write. The
    // logs already stored count from when their build ended, as they did.
    version: 4,
    sql: `
CREATE TABLE log_writes (
  build_id TEXT PRIMARY KEY,
  written_at BIGINT NOT NULL
);
CREATE INDEX log_writes_by_time ON log_writes (written_at);
CREATE FUNCTION log_writes_first() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO log_writes (build_id, written_at)
  VALUES (NEW.build_id, (extract(epoch FROM clock_timestamp()) * 1000)::bigint)
  ON CONFLICT (build_id) DO NOTHING;
  RETURN NULL;
END
$$;
CREATE TRIGGER log_chunks_first_write AFTER INSERT ON log_chunks FOR EACH ROW EXECUTE FUNCTION log_writes_first();
INSERT INTO log_writes (build_id, written_at)
SELECT c.build_id, COALESCE(b.completed_at, (extract(epoch FROM clock_timestamp()) * 1000)::bigint)
FROM (SELECT DISTINCT build_id FROM log_chunks) c LEFT JOIN builds b ON b.id = c.build_id
ON CONFLICT (build_id) DO NOTHING;
`,
  },
];
