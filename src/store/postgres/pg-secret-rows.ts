import type { SealedSecret } from "../../core/secrets/secret-box.ts";
import type { SealedRow, SecretEntry, SecretRows } from "../../core/secrets/secret-store.ts";
import { lockFor, type PgDatabase } from "./pg-database.ts";

/** Sealed secrets in Postgres (migration 3's repo_secrets, by GitHub's repository id), shared by every replica; values only as AES-GCM ciphertext. */
export class PgSecretRows implements SecretRows {
  private readonly db: PgDatabase;

  constructor(db: PgDatabase) {
    this.db = db;
  }

  put(repositoryId: number, repo: string, name: string, s: SealedSecret, by: string, at: Date, max: number): Promise<"ok" | "full"> {
    return this.db.transaction(async (q) => {
      // Two writers on one repository (two replicas, the CLI) take turns, so the count holds.
      await lockFor(q, `microship:secrets:${repositoryId}`);
      const exists = (await q.query("SELECT 1 FROM repo_secrets WHERE repository_id = $1 AND name = $2", [repositoryId, name])).rowCount;
      const count = Number((await q.query("SELECT count(*) AS n FROM repo_secrets WHERE repository_id = $1", [repositoryId])).rows[0].n);
      if (!exists && count >= max) return "full";
      await q.query(
        `INSERT INTO repo_secrets (repository_id, repo, name, key_id, iv, sealed, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (repository_id, name) DO UPDATE SET key_id = excluded.key_id, iv = excluded.iv, sealed = excluded.sealed, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
        [repositoryId, repo, name, s.keyId, s.iv, s.sealed, at.getTime(), by],
      );
      await q.query("UPDATE repo_secrets SET repo = $1 WHERE repository_id = $2 AND repo <> $1", [repo, repositoryId]);
      return "ok";
    });
  }

  async delete(repositoryId: number, name: string): Promise<boolean> {
    return ((await this.db.query("DELETE FROM repo_secrets WHERE repository_id = $1 AND name = $2", [repositoryId, name])).rowCount ?? 0) > 0;
  }

  async list(repositoryId: number): Promise<SecretEntry[]> {
    const { rows } = await this.db.query("SELECT name, updated_at, updated_by FROM repo_secrets WHERE repository_id = $1 ORDER BY name", [repositoryId]);
    return rows.map((r) => ({ name: r.name as string, updatedAt: new Date(Number(r.updated_at)), updatedBy: r.updated_by as string }));
  }

  async sealed(repositoryId: number): Promise<SealedRow[]> {
    const { rows } = await this.db.query("SELECT name, key_id, iv, sealed FROM repo_secrets WHERE repository_id = $1 ORDER BY name", [repositoryId]);
    return rows.map((r) => ({ name: r.name as string, keyId: r.key_id as string, iv: r.iv as Buffer, sealed: r.sealed as Buffer }));
  }
}
