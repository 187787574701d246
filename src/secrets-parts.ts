import type { Env } from "./config/env.ts";
import type { OpLog } from "./core/ports.ts";
import { SecretBox } from "./core/secrets/secret-box.ts";
import { RepoSecrets, type SecretRows } from "./core/secrets/secret-store.ts";
import { loadSecretsKey, NO_SHARED_KEY } from "./store/secrets-key.ts";

/** The repositories' secret store over the storage's rows and this server's key: the server's and the CLI's, the same one. */
export function repoSecrets(env: Env, dataDir: string, rows: SecretRows, log?: OpLog): RepoSecrets {
  const key = loadSecretsKey(env, dataDir, log);
  return new RepoSecrets(rows, key ? new SecretBox(key) : null, NO_SHARED_KEY);
}
