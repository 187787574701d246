import type { SealedSecret } from "../../core/secrets/secret-box.ts";
import type { SealedRow, SecretEntry, SecretRows } from "../../core/secrets/secret-store.ts";
import { lockFor, type PgDatabase } from "./pg-database.ts";

/** Sealed secrets in Postgres (migration 3's repo_secrets), shared by every replica; values only as AES-GCM ciphertext. */
export class PgSecretRows implements SecretRows {
  private readonly db: PgDatabase;

  constructor(db: PgDatabase) {
    this.db = db;
  }

  put(repo: string, name: string, s: SealedSecret, by: string, at: Date, max: number): Promise<"ok" | "full"> {
    return this.db.transaction(async (q) => {
      // Two writers on one repo (two replicas, the CLI) take turns, so the count holds.
      await lockFor(q, `microship:secrets:${repo}`);
      const exists = (await q.query("SELECT 1 FROM repo_secrets WHERE repo = $1 AND name = $2", [repo, name])).rowCount;
      const count = Number((await q.query("SELECT count(*) AS n FROM repo_secrets WHERE repo = $1", [repo])).rows[0].n);
      if (!exists && count >= max) return "full";
      await q.query(
        `INSERT INTO repo_secrets (repo, name, key_id, iv, sealed, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (repo, name) DO UPDATE SET key_id = excluded.key_id, iv = excluded.iv, sealed = excluded.sealed, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
        [repo, name, s.keyId, s.iv, s.sealed, at.getTime(), by],
      );
      return "ok";
    });
  }

  async delete(repo: string, name: string): Promise<boolean> {
    return ((await this.db.query("DELETE FROM repo_secrets WHERE repo = $1 AND name = $2", [repo, name])).rowCount ?? 0) > 0;
  }

  async list(repo: string): Promise<SecretEntry[]> {
    const { rows } = await this.db.query("SELECT name, updated_at, updated_by FROM repo_secrets WHERE repo = $1 ORDER BY name", [repo]);
    return rows.map((r) => ({ name: r.name as string, updatedAt: new Date(Number(r.updated_at)), updatedBy: r.updated_by as string }));
  }

  async sealed(repo: string): Promise<SealedRow[]> {
    const { rows } = await this.db.query("SELECT name, key_id, iv, sealed FROM repo_secrets WHERE repo = $1 ORDER BY name", [repo]);
    return rows.map((r) => ({ name: r.name as string, keyId: r.key_id as string, iv: r.iv as Buffer, sealed: r.sealed as Buffer }));
  }
}
