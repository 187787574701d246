import { EnvError } from "./config/env.ts";
import { StateDirRefusal } from "./deploy/microvm/state-dir-lock.ts";

/**
 * A start-up the operator must fix (a bad setting; another microship owning the deploy state, or
 * its lock file not being one) is said plainly with exit code 2, not as a crash's stack; anything
 * else is thrown on.
 */
export function exitIfRefused(err: unknown): never {
  if (!(err instanceof EnvError || err instanceof StateDirRefusal)) throw err;
  console.error(err.message);
  process.exit(2);
}
