import { join } from "node:path";
import { DiskUse } from "./disk-use.ts";

/** The data directory's heavy parts: builders' layer caches, the embedded registry, and the SQLite database that holds the logs. */
export function dataDiskUse(dataDir: string): DiskUse {
  return new DiskUse({
    dataDir,
    places: [
      { name: "Build caches", paths: [join(dataDir, "builders")] },
      { name: "Registry (images)", paths: [join(dataDir, "registry")] },
      { name: "Database and logs (SQLite)", paths: ["", "-wal", "-shm"].map((s) => join(dataDir, `microship.sqlite${s}`)) },
    ],
  });
}
