import { resolve } from "node:path";
import { userInfo } from "node:os";
import { type Env, EnvError, loadEnv } from "../../config/env.ts";
import type { OpLog } from "../../core/ports.ts";
import { checkSecretName, checkSecretValue, parseRepoKey, SECRET_LIMITS, SecretRuleError } from "../../core/secrets/secret-rules.ts";
import type { RepoSecrets, SecretRepo } from "../../core/secrets/secret-store.ts";
import { appRepositoryId, AppRepositoryRefused } from "../../github/app-repository-id.ts";
import { openStorage } from "../../open-storage.ts";
import { repoSecrets } from "../../secrets-parts.ts";
import { readValue } from "./read-value.ts";

const USAGE = [
  "usage: microship secrets set <owner/repo> <NAME>      the value is read from stdin (never from the command line)",
  "       microship secrets list <owner/repo>            names and dates, never values",
  "       microship secrets delete <owner/repo> <NAME>",
].join("\n");

class UsageError extends Error {}

/**
 * The operator's way to set a repository's secrets on a one-box install: the same store the
 * server reads (the data dir's SQLite file, or DATABASE_URL), opened beside the running server.
 * `owner/repo` is turned into GitHub's repository id with the app's own credentials, so a name
 * another repository took over never reaches the old one's secrets, and a repository the app
 * isn't installed on is refused. Exit 2 for anything the operator must fix (usage, a refused
 * name or value, no installation), 1 for the rest.
 */
export async function secretsCommand(args: string[]): Promise<number> {
  try {
    const [verb, repoText, name, ...extra] = args;
    const repo = parseRepoKey(repoText ?? "");
    const arity = verb === "list" ? name === undefined : name !== undefined && extra.length === 0;
    if (!repo || !arity || !["set", "list", "delete"].includes(verb ?? "")) throw new UsageError(USAGE);
    if (verb !== "list") checkSecretName(name!);
    // The value is read before the store opens: a refused value touches nothing.
    const value = verb === "set" ? await readValue(process.stdin, SECRET_LIMITS.valueBytes) : "";
    if (verb === "set") checkSecretValue(value);
    const env = loadEnv();
    const found = await appRepositoryId(env, repo.owner, repo.repo).catch(lookupFailed);
    return await withSecrets(env, (s) => run(s, verb!, found, name ?? "", value));
  } catch (err) {
    if (err instanceof LookupFailed) return 1;
    if (!(err instanceof UsageError || err instanceof SecretRuleError || err instanceof EnvError || err instanceof AppRepositoryRefused)) throw err;
    console.error(err.message);
    return 2;
  }
}

/** A lookup GitHub refused or couldn't answer: said in one line, without a stack (nor any credential). */
function lookupFailed(err: unknown): never {
  if (err instanceof AppRepositoryRefused) throw err;
  const status = (err as { status?: number }).status;
  console.error(`could not ask GitHub which repository this is${status ? ` (HTTP ${status})` : ""}: ${err instanceof Error ? err.message.slice(0, 300) : String(err)}`);
  throw new LookupFailed();
}

class LookupFailed extends Error {}

async function run(s: RepoSecrets, verb: string, repo: SecretRepo, name: string, value: string): Promise<number> {
  const full = `${repo.owner}/${repo.repo} (repository id ${repo.id})`;
  if (verb === "set") {
    await s.set(repo, name, value, `cli:${userInfo().username}`.slice(0, 100));
    console.log(`${name} is set for ${full}: its next builds and deploys get it.`);
  } else if (verb === "delete") {
    console.log((await s.delete(repo, name)) ? `${name} is deleted from ${full}.` : `${full} has no secret ${name}.`);
  } else {
    const list = await s.list(repo);
    if (list.length === 0) console.log(`${full} has no secrets.`);
    for (const e of list) console.log(`${e.name}\t${e.updatedAt.toISOString()}\t${e.updatedBy}`);
  }
  return 0;
}

async function withSecrets<T>(env: Env, fn: (s: RepoSecrets) => Promise<T>): Promise<T> {
  const dataDir = resolve(env.MICROSHIP_DATA_DIR);
  const storage = await openStorage(env, dataDir, stderrLog);
  try {
    return await fn(repoSecrets(env, dataDir, storage.secretRows, stderrLog));
  } finally {
    await storage.close();
  }
}

/** Warnings to stderr, the rest unsaid: stdout is the command's answer. */
const stderrLog: OpLog = {
  info() {},
  debug() {},
  warn: (o, msg) => console.error(`warning: ${msg ?? (typeof o === "string" ? o : "")}`),
  error: (o, msg) => console.error(`error: ${msg ?? (typeof o === "string" ? o : "")}`),
  child: () => stderrLog,
};
