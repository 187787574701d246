import { join } from "node:path";
import type { Env } from "../config/env.ts";
import { loadKeyFile } from "../core/key-file.ts";
import { registerSecret } from "../core/redact.ts";
import type { OpLog } from "../core/ports.ts";

const FILE = "secrets.key";

/** Why a server without a usable key has no secrets, for the CLI's error and the build log. */
export const NO_SHARED_KEY = "this server shares DATABASE_URL with other replicas and has no MICROSHIP_SECRETS_KEY (set the same key on every replica)";

/**
 * The secret store's key: MICROSHIP_SECRETS_KEY, else a random key made once in the data dir, as
 * the log links' is (core/key-file.ts). Replicas on one database would each make their own and
 * could not read each other's secrets, so there it must be set: without it, null (secrets off).
 * Losing the key loses the secrets (they must be set again), never exposes them.
 */
export function loadSecretsKey(env: Env, dataDir: string, log?: OpLog): Buffer | null {
  // Scrubbed from every log, as the other keys of the environment are.
  registerSecret(env.MICROSHIP_SECRETS_KEY);
  if (env.MICROSHIP_SECRETS_KEY) return Buffer.from(env.MICROSHIP_SECRETS_KEY, "base64");
  if (env.DATABASE_URL) return null;
  return loadKeyFile(join(dataDir, FILE), { what: "the repositories' secrets", ifDeleted: "every secret set so far must be set again" }, log);
}
