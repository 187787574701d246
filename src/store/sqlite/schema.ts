/** Plain SQL; the Postgres store keeps its own versioned copy (store/postgres/migrations.ts): change both. */
export const SCHEMA = `
CREATE TABLE IF NOT EXISTS builds (
  id TEXT PRIMARY KEY,
  installation_id INTEGER NOT NULL,
  owner TEXT NOT NULL,
  repo TEXT NOT NULL,
  sha TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  branch TEXT,
  pr_number INTEGER,
  is_default_branch INTEGER NOT NULL,
  request TEXT NOT NULL,
  state TEXT NOT NULL,
  conclusion TEXT,
  check_run_id INTEGER,
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  superseded_by TEXT,
  tries INTEGER NOT NULL DEFAULT 0,
  lease_owner TEXT,
  lease_expires_at INTEGER,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  completed_at INTEGER,
  outcome TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS builds_by_sha ON builds (owner, repo, sha, attempt);
CREATE INDEX IF NOT EXISTS builds_by_state ON builds (state, created_at);
CREATE INDEX IF NOT EXISTS builds_by_branch ON builds (owner, repo, branch, state);
CREATE INDEX IF NOT EXISTS builds_by_pr ON builds (owner, repo, pr_number, state);
CREATE TABLE IF NOT EXISTS deliveries (
  id TEXT PRIMARY KEY,
  event TEXT NOT NULL,
  build_id TEXT,
  received_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sha_prs (
  owner TEXT NOT NULL,
  repo TEXT NOT NULL,
  sha TEXT NOT NULL,
  pr TEXT NOT NULL,
  PRIMARY KEY (owner, repo, sha)
);
CREATE TABLE IF NOT EXISTS app_check_runs (
  build_id TEXT NOT NULL,
  app TEXT NOT NULL,
  check_run_id INTEGER NOT NULL,
  completed INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (build_id, app)
);
CREATE TABLE IF NOT EXISTS log_chunks (
  build_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  lines TEXT NOT NULL,
  PRIMARY KEY (build_id, seq)
);
CREATE TABLE IF NOT EXISTS log_writes (
  build_id TEXT PRIMARY KEY,
  written_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS log_writes_by_time ON log_writes (written_at);
`;
