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
    // per repository (`owner/repo`, lower case), never a plaintext value.
    version: 3,
    sql: `
CREATE TABLE repo_secrets (
  repo TEXT NOT NULL,
  name TEXT NOT NULL,
  key_id TEXT NOT NULL,
  iv BYTEA NOT NULL,
  sealed BYTEA NOT NULL,
  updated_at BIGINT NOT NULL,
  updated_by TEXT NOT NULL,
  PRIMARY KEY (repo, name)
);
`,
  },
];
