import type { OpLog } from "../../core/ports.ts";
import { loadKeyFile } from "../../core/key-file.ts";

/** The AES-256 key of the deploy state's env values: random, made once, kept beside (not inside) the state dir. */
export function loadStateKey(path: string, log?: OpLog): Buffer {
  return loadKeyFile(path, { what: "the deploy state", ifDeleted: "the saved deployments' env is then lost" }, log);
}
