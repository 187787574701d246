import type { BuildSecret } from "../builder.ts";
import { MicroshipError } from "../errors.ts";
import type { SecretSource } from "../ports.ts";
import { isRepositoryId, type BuildRequest } from "../types.ts";
import { SecretBox, type SealedSecret } from "./secret-box.ts";
import { checkSecretName, checkSecretValue, repoKey, SECRET_LIMITS, SecretRuleError } from "./secret-rules.ts";

/** A secret as a list shows it: never its value. */
export interface SecretEntry {
  name: string;
  updatedAt: Date;
  updatedBy: string;
}

export interface SealedRow extends SealedSecret {
  name: string;
}

/** A repository as GitHub says it is now: its id (what secrets are kept under) and its name (what people read). */
export interface SecretRepo {
  id: number;
  owner: string;
  repo: string;
}

/**
 * Where sealed secrets are kept (SQLite, Postgres), by GitHub's repository id; `repo` is only the
 * `owner/repo` last seen for that id, for people to read, and is never looked up by.
 */
export interface SecretRows {
  /** Inserts or replaces, and records `repo` as the id's name; "full" (nothing written) when it would be the id's (max+1)th name. Atomic against other writers. */
  put(repositoryId: number, repo: string, name: string, sealed: SealedSecret, by: string, at: Date, max: number): Promise<"ok" | "full">;
  delete(repositoryId: number, name: string): Promise<boolean>;
  list(repositoryId: number): Promise<SecretEntry[]>;
  sealed(repositoryId: number): Promise<SealedRow[]>;
}

/** The operator's (CLI, dashboard) way in: set, delete, list names, for a repository whose id GitHub gave. */
export interface SecretStore {
  set(repo: SecretRepo, name: string, value: string, by: string): Promise<void>;
  delete(repo: SecretRepo, name: string): Promise<boolean>;
  list(repo: SecretRepo): Promise<SecretEntry[]>;
}

/** What a build of a request stored before repository ids were recorded reads instead of its secrets. */
export const NO_REPOSITORY_ID =
  "This build's request was stored before microship recorded repository ids, so it gets no secrets (they are kept by GitHub's repository id, never by a name another repository could take). Push again, or use Re-run on GitHub's Checks tab, to build it with them.";

/**
 * microship's own secret store: values sealed by SecretBox, kept per GitHub repository id, opened
 * only for builds of that id (the pipeline never asks for a fork's). A name freed by a rename or
 * transfer and taken by a new repository brings that repository nothing; a renamed repository
 * keeps its secrets. `box` is null when this server has no key it may use (replicas on Postgres
 * without MICROSHIP_SECRETS_KEY): then nothing can be set, and a repository that has secrets fails
 * its builds saying why instead of building without them.
 */
export class RepoSecrets implements SecretStore, SecretSource {
  private readonly rows: SecretRows;
  private readonly box: SecretBox | null;
  private readonly noKey: string;

  constructor(rows: SecretRows, box: SecretBox | null, noKey = "no key") {
    this.rows = rows;
    this.box = box;
    this.noKey = noKey;
  }

  async set(repo: SecretRepo, name: string, value: string, by: string): Promise<void> {
    checkSecretName(name);
    checkSecretValue(value);
    const box = this.usableBox();
    const key = repoKey(repo.owner, repo.repo);
    const done = await this.rows.put(checkedId(repo.id), key, name, box.seal(repo.id, name, value), by.slice(0, 100), new Date(), SECRET_LIMITS.perRepo);
    if (done === "full") throw new SecretRuleError(`${key} already has ${SECRET_LIMITS.perRepo} secrets, the most a repository may have; delete one first`);
  }

  delete(repo: SecretRepo, name: string): Promise<boolean> {
    checkSecretName(name);
    return this.rows.delete(checkedId(repo.id), name);
  }

  list(repo: SecretRepo): Promise<SecretEntry[]> {
    return this.rows.list(checkedId(repo.id));
  }

  /** Only the rows of the request's repository id; a request without one gets none (NO_REPOSITORY_ID says so in its log). */
  async secretsFor(request: BuildRequest): Promise<BuildSecret[]> {
    const id = request.repositoryId;
    if (!isRepositoryId(id)) return [];
    const rows = await this.rows.sealed(id);
    if (rows.length === 0) return [];
    const shown = `${request.owner}/${request.repo}`;
    if (!this.box) throw new MicroshipError("infra", `the secrets of ${shown} can't be read: ${this.noKey}`);
    const box = this.box;
    return rows.map((r) => ({ id: r.name, value: box.open(id, r.name, r, shown) }));
  }

  private usableBox(): SecretBox {
    if (!this.box) throw new SecretRuleError(`secrets can't be set on this server: ${this.noKey}`);
    return this.box;
  }
}

/** An id that came from GitHub is a positive integer; anything else is a bug on our side, refused before it reaches a row. */
function checkedId(id: number): number {
  if (!isRepositoryId(id)) throw new MicroshipError("infra", `not a GitHub repository id: ${String(id).slice(0, 30)}`);
  return id;
}
