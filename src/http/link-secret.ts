import { join } from "node:path";
import { loadKeyFile } from "../core/key-file.ts";
import type { OpLog } from "../core/ports.ts";

const FILE = "log-link.key";

/**
 * The key of the log links. A random key made once and kept in the data dir, rather than one
 * derived from the app's private key: it depends on no library's way of loading that key, a key
 * rotation leaves the links working, and the private key signs nothing but GitHub's JWTs.
 * Replicas that must accept each other's links share MICROSHIP_LOG_SECRET instead.
 */
export function loadLinkSecret(dataDir: string, configured: string | undefined, log: OpLog): string | Buffer {
  if (configured) return configured;
  return loadKeyFile(join(dataDir, FILE), { what: "the log links", ifDeleted: "old log links stop working" }, log);
}
