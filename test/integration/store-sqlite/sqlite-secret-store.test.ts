import { after } from "node:test";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteDatabase } from "../../../src/store/sqlite/sqlite-database.ts";
import { SqliteSecretRows } from "../../../src/store/sqlite/sqlite-secret-rows.ts";
import { runSecretStoreContract } from "../../helpers/secret-store-contract.ts";

const dir = await mkdtemp(join(tmpdir(), "ms-secrets-"));
after(() => rm(dir, { recursive: true, force: true }));
let n = 0;

// The app's own file (WAL); the second connection is another handle on the same file, as the CLI's is.
runSecretStoreContract("sqlite", async () => {
  const at = join(dir, `db-${n++}`);
  const path = join(at, "microship.sqlite");
  const sql = new SqliteDatabase(path);
  const second: SqliteDatabase[] = [];
  return {
    rows: new SqliteSecretRows(sql),
    async other() {
      const s = new SqliteDatabase(path);
      second.push(s);
      return new SqliteSecretRows(s);
    },
    async retarget(from, to, name) {
      sql.db.prepare("UPDATE repo_secrets SET repository_id = ? WHERE repository_id = ? AND name = ?").run(to, from, name);
    },
    async lastSeen(id) {
      return (sql.db.prepare("SELECT repo FROM repo_secrets WHERE repository_id = ? ORDER BY name").all(id) as { repo: string }[]).map((r) => r.repo);
    },
    async rawBytes() {
      // Every file of the database, the WAL included, as a disk thief would read them.
      const files = await readdir(at);
      return Buffer.concat(await Promise.all(files.map((f) => readFile(join(at, f)))));
    },
    async close() {
      for (const s of second) s.close();
      sql.close();
    },
  };
});
