import { generateKeyPairSync, randomBytes } from "node:crypto";

export interface AppCredentials {
  appId: number;
  privateKeyPem: string;
  publicKeyPem: string;
  webhookSecret: string;
}

/** A fresh GitHub App identity for one test: an RSA key pair and a webhook secret. */
export function appCredentials(appId = 4242): AppCredentials {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    appId,
    privateKeyPem: privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
    publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
    webhookSecret: randomBytes(16).toString("hex"),
  };
}
