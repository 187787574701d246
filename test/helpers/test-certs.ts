import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestCa {
  /** The CA's certificate, PEM. */
  cert: string;
  /** A server key and certificate for `names` (subjectAltName DNS entries; "IP:..." as given), signed by this CA. */
  issue(names: string[]): { key: string; cert: string };
  close(): void;
}

/** A CA made with openssl at test time (EC P-256: quick), and certificates it signs. */
export function makeTestCa(commonName = "microship test CA"): TestCa {
  const dir = mkdtempSync(join(tmpdir(), "ms-test-ca-"));
  const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  ssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", `/CN=${commonName}`,
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
  let n = 0;
  return {
    cert: readFileSync(join(dir, "ca.pem"), "utf8"),
    issue(names) {
      const id = `leaf${n++}`;
      ssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", `${id}.key`, "-out", `${id}.csr`, "-subj", `/CN=${names[0]!.replace(/^IP:/, "")}`);
      writeFileSync(join(dir, `${id}.ext`), `subjectAltName=${names.map((x) => (x.startsWith("IP:") ? x : `DNS:${x}`)).join(",")}\nextendedKeyUsage=serverAuth\n`);
      ssl("x509", "-req", "-in", `${id}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", `${id}.pem`, "-days", "2", "-extfile", `${id}.ext`);
      return { key: readFileSync(join(dir, `${id}.key`), "utf8"), cert: readFileSync(join(dir, `${id}.pem`), "utf8") };
    },
    close: () => rmSync(dir, { recursive: true, force: true }),
  };
}
