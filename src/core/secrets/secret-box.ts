import { createCipheriv, createDecipheriv, createHmac, randomBytes } from "node:crypto";
import { MicroshipError } from "../errors.ts";
import { isRepositoryId } from "../types.ts";

/** One sealed value as it is kept: never the plaintext. */
export interface SealedSecret {
  /** Which key sealed it (a keyed hash of the key, not the key), so a wrong key is told apart from damage. */
  keyId: string;
  iv: Buffer;
  /** AES-256-GCM ciphertext followed by its 16-byte tag. */
  sealed: Buffer;
}

const TAG = 16;
const KEY_BYTES = 32;
export const SECRETS_KEY_HELP = "MICROSHIP_SECRETS_KEY (or the data dir's secrets.key)";

/**
 * AES-256-GCM over each secret with a fresh 12-byte IV. GitHub's repository id and the name are
 * the additional authenticated data: a ciphertext copied into another repository's row (or under
 * another name) fails to open, so someone who can write the table but not read the key can't
 * move one repository's secret into another's builds. The id, not `owner/repo`: a name is freed
 * by a rename or a transfer and can be taken by a new repository, an id never is.
 */
export class SecretBox {
  readonly keyId: string;
  private readonly key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== KEY_BYTES) throw new Error(`${SECRETS_KEY_HELP} must be ${KEY_BYTES} bytes`);
    this.key = Buffer.from(key);
    this.keyId = createHmac("sha256", this.key).update("microship secrets key id").digest("hex").slice(0, 16);
  }

  seal(repositoryId: number, name: string, value: string): SealedSecret {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv, { authTagLength: TAG });
    cipher.setAAD(aad(repositoryId, name));
    const sealed = Buffer.concat([cipher.update(value, "utf8"), cipher.final(), cipher.getAuthTag()]);
    return { keyId: this.keyId, iv, sealed };
  }

  /** `shown` names the repository in errors (its `owner/repo`); only the id is authenticated. */
  open(repositoryId: number, name: string, s: SealedSecret, shown = `repository ${repositoryId}`): string {
    if (s.keyId !== this.keyId) {
      throw new MicroshipError("infra", `the secret ${name} of ${shown} was sealed with another key than this server's ${SECRETS_KEY_HELP}: set the key it was made with, or set the secret again`);
    }
    try {
      if (s.iv.length !== 12 || s.sealed.length < TAG) throw new Error("short");
      const decipher = createDecipheriv("aes-256-gcm", this.key, s.iv, { authTagLength: TAG });
      decipher.setAAD(aad(repositoryId, name));
      decipher.setAuthTag(s.sealed.subarray(s.sealed.length - TAG));
      return Buffer.concat([decipher.update(s.sealed.subarray(0, s.sealed.length - TAG)), decipher.final()]).toString("utf8");
    } catch {
      throw new MicroshipError("infra", `the secret ${name} of ${shown} does not decrypt: its row was altered or moved from another repository; set it again`);
    }
  }
}

/** The id in 8 fixed bytes and the name length-prefixed, so no two (id, name) pairs make the same bytes. */
function aad(repositoryId: number, name: string): Buffer {
  if (!isRepositoryId(repositoryId)) throw new MicroshipError("infra", `not a GitHub repository id: ${String(repositoryId).slice(0, 30)}`);
  const n = Buffer.from(name, "utf8");
  const head = Buffer.alloc(12);
  head.writeBigUInt64BE(BigInt(repositoryId), 0);
  head.writeUInt32BE(n.length, 8);
  return Buffer.concat([Buffer.from("microship-secret\0"), head, n]);
}
