import type { SealedSecret } from "../../core/secrets/secret-box.ts";
import type { SealedRow, SecretEntry, SecretRows } from "../../core/secrets/secret-store.ts";
import type { SqliteDatabase } from "./sqlite-database.ts";

/**
 * Kept apart from schema.ts's builds: made here, on first use of this file's rows, the same way
 * (IF NOT EXISTS). Keyed by GitHub's repository id; `repo` is the name last seen for it, for display.
 */
const SECRETS_SCHEMA = `
CREATE TABLE IF NOT EXISTS repo_secrets (
  repository_id INTEGER NOT NULL,
  repo TEXT NOT NULL,
  name TEXT NOT NULL,
  key_id TEXT NOT NULL,
  iv BLOB NOT NULL,
  sealed BLOB NOT NULL,
  updated_at INTEGER NOT NULL,
  updated_by TEXT NOT NULL,
  PRIMARY KEY (repository_id, name)
);
`;

/** Sealed secrets in the data dir's SQLite file (values only as AES-GCM ciphertext). */
export class SqliteSecretRows implements SecretRows {
  private readonly sql: SqliteDatabase;

  constructor(sql: SqliteDatabase) {
    this.sql = sql;
    sql.db.exec(SECRETS_SCHEMA);
  }

  async put(repositoryId: number, repo: string, name: string, s: SealedSecret, by: string, at: Date, max: number): Promise<"ok" | "full"> {
    // One immediate transaction: the count and the insert can't interleave with another writer's (the CLI beside the server).
    return this.sql.transaction(() => {
      const exists = this.sql.prepare("SELECT 1 FROM repo_secrets WHERE repository_id = ? AND name = ?").get(repositoryId, name);
      const count = Number((this.sql.prepare("SELECT count(*) AS n FROM repo_secrets WHERE repository_id = ?").get(repositoryId) as { n: number }).n);
      if (!exists && count >= max) return "full";
      this.sql
        .prepare(
          `INSERT INTO repo_secrets (repository_id, repo, name, key_id, iv, sealed, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (repository_id, name) DO UPDATE SET key_id = excluded.key_id, iv = excluded.iv, sealed = excluded.sealed, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
        )
        .run(repositoryId, repo, name, s.keyId, s.iv, s.sealed, at.getTime(), by);
      this.sql.prepare("UPDATE repo_secrets SET repo = ? WHERE repository_id = ? AND repo <> ?").run(repo, repositoryId, repo);
      return "ok";
    });
  }

  async delete(repositoryId: number, name: string): Promise<boolean> {
    return Number(this.sql.prepare("DELETE FROM repo_secrets WHERE repository_id = ? AND name = ?").run(repositoryId, name).changes) > 0;
  }

  async list(repositoryId: number): Promise<SecretEntry[]> {
    const rows = this.sql.prepare("SELECT name, updated_at, updated_by FROM repo_secrets WHERE repository_id = ? ORDER BY name").all(repositoryId) as { name: string; updated_at: number; updated_by: string }[];
    return rows.map((r) => ({ name: r.name, updatedAt: new Date(Number(r.updated_at)), updatedBy: r.updated_by }));
  }

  async sealed(repositoryId: number): Promise<SealedRow[]> {
    const rows = this.sql.prepare("SELECT name, key_id, iv, sealed FROM repo_secrets WHERE repository_id = ? ORDER BY name").all(repositoryId) as { name: string; key_id: string; iv: Uint8Array; sealed: Uint8Array }[];
    return rows.map((r) => ({ name: r.name, keyId: r.key_id, iv: Buffer.from(r.iv), sealed: Buffer.from(r.sealed) }));
  }
}
