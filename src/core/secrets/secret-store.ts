import type { BuildSecret } from "../builder.ts";
import { MicroshipError } from "../errors.ts";
import type { SecretSource } from "../ports.ts";
import type { BuildRequest } from "../types.ts";
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

/** Where sealed secrets are kept (SQLite, Postgres), by repository key (`owner/repo`, lower case). */
export interface SecretRows {
  /** Inserts or replaces; "full" (nothing written) when it would be the repo's (max+1)th name. Atomic against other writers. */
  put(repo: string, name: string, sealed: SealedSecret, by: string, at: Date, max: number): Promise<"ok" | "full">;
  delete(repo: string, name: string): Promise<boolean>;
  list(repo: string): Promise<SecretEntry[]>;
  sealed(repo: string): Promise<SealedRow[]>;
}

/** The operator's (CLI, dashboard) way in: set, delete, list names. */
export interface SecretStore {
  set(owner: string, repo: string, name: string, value: string, by: string): Promise<void>;
  delete(owner: string, repo: string, name: string): Promise<boolean>;
  list(owner: string, repo: string): Promise<SecretEntry[]>;
}

/**
 * microship's own secret store: values sealed by SecretBox, kept per repository, opened only for
 * that repository's builds (the pipeline never asks for a fork's). `box` is null when this server
 * has no key it may use (replicas on Postgres without MICROSHIP_SECRETS_KEY): then nothing can be
 * set, and a repository that has secrets fails its builds saying why instead of building without them.
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

  async set(owner: string, repo: string, name: string, value: string, by: string): Promise<void> {
    checkSecretName(name);
    checkSecretValue(value);
    const box = this.usableBox();
    const key = repoKey(owner, repo);
    const done = await this.rows.put(key, name, box.seal(key, name, value), by.slice(0, 100), new Date(), SECRET_LIMITS.perRepo);
    if (done === "full") throw new SecretRuleError(`${key} already has ${SECRET_LIMITS.perRepo} secrets, the most a repository may have; delete one first`);
  }

  delete(owner: string, repo: string, name: string): Promise<boolean> {
    checkSecretName(name);
    return this.rows.delete(repoKey(owner, repo), name);
  }

  list(owner: string, repo: string): Promise<SecretEntry[]> {
    return this.rows.list(repoKey(owner, repo));
  }

  async secretsFor(request: BuildRequest): Promise<BuildSecret[]> {
    const key = repoKey(request.owner, request.repo);
    const rows = await this.rows.sealed(key);
    if (rows.length === 0) return [];
    if (!this.box) throw new MicroshipError("infra", `the secrets of ${key} can't be read: ${this.noKey}`);
    const box = this.box;
    return rows.map((r) => ({ id: r.name, value: box.open(key, r.name, r) }));
  }

  private usableBox(): SecretBox {
    if (!this.box) throw new SecretRuleError(`secrets can't be set on this server: ${this.noKey}`);
    return this.box;
  }
}
