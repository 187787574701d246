import { X509Certificate } from "node:crypto";
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { z } from "zod";

/** A CA bundle is a few certificates; a bigger file is not one. */
const MAX_BYTES = 1024 * 1024;
const MAX_CERTS = 100;
const BEGIN = "-----BEGIN CERTIFICATE-----";
const END = "-----END CERTIFICATE-----";

/** The file's bytes, refused past MAX_BYTES without reading further: read once, at start. */
function readBounded(path: string): Buffer {
  const fd = openSync(path, "r");
  try {
    if (!fstatSync(fd).isFile()) throw new Error("not a regular file");
    const buf = Buffer.alloc(MAX_BYTES + 1);
    let n = 0;
    for (let got = 1; got > 0 && n <= MAX_BYTES; n += got) got = readSync(fd, buf, n, buf.length - n, null);
    if (n > MAX_BYTES) throw new Error(`larger than ${MAX_BYTES / 1024} KiB`);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/** Each PEM certificate block, found with indexOf (no pattern runs over the file), parsed to be sure. */
export function pemCertificates(text: string): string[] {
  const out: string[] = [];
  for (let at = text.indexOf(BEGIN); at !== -1; at = text.indexOf(BEGIN, at)) {
    const end = text.indexOf(END, at);
    if (end === -1) throw new Error("a certificate block has no END line");
    const block = text.slice(at, end + END.length);
    new X509Certificate(block);
    out.push(block);
    if (out.length > MAX_CERTS) throw new Error(`more than ${MAX_CERTS} certificates`);
    at = end + END.length;
  }
  if (out.length === 0) throw new Error("no PEM certificate in it");
  return out;
}

/**
 * MICROSHIP_HYPEMAN_INGRESS_CA: the path of a PEM file with the private CA that Hypeman's ingress
 * certificate is signed by. Read and checked while the environment is, so a bad file stops the
 * start with the variable's name, before anything opens; the setting is then the PEM text.
 */
export const ingressCa = z
  .string()
  .max(4096)
  .transform((path, ctx) => {
    try {
      return pemCertificates(readBounded(path).toString("utf8")).join("\n");
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err));
      ctx.addIssue({ code: "custom", message: `can't use ${path} as a PEM CA bundle: ${why}` });
      return z.NEVER;
    }
  });
