import { createCipheriv, createDecipheriv, createHmac, randomBytes } from "node:crypto";
import { MicroshipError } from "../errors.ts";

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
 * AES-256-GCM over each secret with a fresh 12-byte IV. The repository and the name are the
 * additional authenticated data: a ciphertext copied into another repository's row (or under
 * another name) fails to open, so someone who can write the table but not read the key can't
 * move one repository's secret into another's builds.
 */
export class SecretBox {
  readonly keyId: string;
  private readonly key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== KEY_BYTES) throw new Error(`${SECRETS_KEY_HELP} must be ${KEY_BYTES} bytes`);
    this.key = Buffer.from(key);
    this.keyId = createHmac("sha256", this.key).update("microship secrets key id").digest("hex").slice(0, 16);
  }

  seal(repo: string, name: string, value: string): SealedSecret {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv, { authTagLength: TAG });
    cipher.setAAD(aad(repo, name));
    const sealed = Buffer.concat([cipher.update(value, "utf8"), cipher.final(), cipher.getAuthTag()]);
    return { keyId: this.keyId, iv, sealed };
  }

  open(repo: string, name: string, s: SealedSecret): string {
    if (s.keyId !== this.keyId) {
      throw new MicroshipError("infra", `the secret ${name} of ${repo} was sealed with another key than this server's ${SECRETS_KEY_HELP}: set the key it was made with, or set the secret again`);
    }
    try {
      if (s.iv.length !== 12 || s.sealed.length < TAG) throw new Error("short");
      const decipher = createDecipheriv("aes-256-gcm", this.key, s.iv, { authTagLength: TAG });
      decipher.setAAD(aad(repo, name));
      decipher.setAuthTag(s.sealed.subarray(s.sealed.length - TAG));
      return Buffer.concat([decipher.update(s.sealed.subarray(0, s.sealed.length - TAG)), decipher.final()]).toString("utf8");
    } catch {
      throw new MicroshipError("infra", `the secret ${name} of ${repo} does not decrypt: its row was altered or moved from another repository; set it again`);
    }
  }
}

/** Length-prefixed, so no two (repo, name) pairs make the same bytes. */
function aad(repo: string, name: string): Buffer {
  const r = Buffer.from(repo, "utf8"), n = Buffer.from(name, "utf8");
  const head = Buffer.alloc(8);
  head.writeUInt32BE(r.length, 0);
  head.writeUInt32BE(n.length, 4);
  return Buffer.concat([Buffer.from("microship-secret\0"), head, r, n]);
}
