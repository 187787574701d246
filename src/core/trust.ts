import type { BuildRequest } from "./types.ts";

/**
 * Two trust levels. A fork PR's head is code from a stranger: it gets no secrets, its own cache
 * scope and no branch tags. Everything else (pushes, same-repo PRs, re-runs of those) is code that
 * someone with write access put into the base repository. Builds of one sha are shared only
 * within one level: a fork that copies a queued push's sha must not turn that push into a fork
 * build, nor ride along on the push's trust.
 */
export function isTrusted(request: BuildRequest): boolean {
  return !(request.pr?.fork ?? false);
}
