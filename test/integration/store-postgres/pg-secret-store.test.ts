import { after } from "node:test";
import { PgDatabase } from "../../../src/store/postgres/pg-database.ts";
import { migrate } from "../../../src/store/postgres/migrate.ts";
import { PgSecretRows } from "../../../src/store/postgres/pg-secret-rows.ts";
import { runSecretStoreContract } from "../../helpers/secret-store-contract.ts";
import { startPostgresCluster } from "../../helpers/postgres-cluster.ts";

const cluster = await startPostgresCluster();
after(() => cluster.stop());

// The second connection is a pool of its own, as another replica's or the CLI's would be.
runSecretStoreContract("postgres", async () => {
  const url = await cluster.database();
  const db = new PgDatabase(url);
  await migrate(db);
  const second: PgDatabase[] = [];
  return {
    rows: new PgSecretRows(db),
    async other() {
      const d = new PgDatabase(url);
      second.push(d);
      return new PgSecretRows(d);
    },
    async retarget(from, to, name) {
      await db.query("UPDATE repo_secrets SET repository_id = $1 WHERE repository_id = $2 AND name = $3", [to, from, name]);
    },
    async lastSeen(id) {
      return (await db.query("SELECT repo FROM repo_secrets WHERE repository_id = $1 ORDER BY name", [id])).rows.map((r) => r.repo as string);
    },
    async rawBytes() {
      // Every column of every row, as text and as the stored bytes.
      const { rows } = await db.query("SELECT repo, name, key_id, iv, sealed, updated_by, encode(sealed, 'escape') AS sealed_text FROM repo_secrets");
      return Buffer.concat(rows.flatMap((r) => Object.values(r).map((v) => (Buffer.isBuffer(v) ? v : Buffer.from(String(v))))));
    },
    async close() {
      for (const d of second) await d.close();
      await db.close();
    },
  };
});
