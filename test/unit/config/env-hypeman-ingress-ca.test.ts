import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EnvError, loadEnv } from "../../../src/config/env.ts";
import { makeTestCa } from "../../helpers/test-certs.ts";

const hypeman = { MICROSHIP_DEPLOYER: "hypeman", HYPEMAN_BASE_URL: "http://hypeman.test", MICROSHIP_DEPLOY_DOMAIN: "preview.example.com", MICROSHIP_REGISTRY: "registry.test" };
const https = { ...hypeman, MICROSHIP_HYPEMAN_INGRESS_URL: "https://10.0.0.5:8443" };

/** The start-up error for a CA setting: one problem, naming the variable. */
function refusal(env: Record<string, string>): string {
  try {
    loadEnv(env);
  } catch (err) {
    assert.ok(err instanceof EnvError);
    assert.equal(err.problems.length, 1, err.message);
    return err.problems[0]!;
  }
  assert.fail("expected the setting to be refused");
}

test("MICROSHIP_HYPEMAN_INGRESS_CA: a PEM bundle read once at start; an unreadable, oversized or non-PEM file stops the start naming the variable", async () => {
  const dir = await mkdtemp(join(tmpdir(), "ms-ingress-ca-"));
  const ca = makeTestCa();
  const other = makeTestCa("another test CA");
  try {
    const bundle = join(dir, "bundle.pem");
    await writeFile(bundle, `# the ingress's CA\n${ca.cert}\n${other.cert}`);
    const pem = loadEnv({ ...https, MICROSHIP_HYPEMAN_INGRESS_CA: bundle }).MICROSHIP_HYPEMAN_INGRESS_CA!;
    assert.equal(pem, `${ca.cert.trim()}\n${other.cert.trim()}`, "the certificates, and only them");
    assert.equal(loadEnv(https).MICROSHIP_HYPEMAN_INGRESS_CA, undefined, "unset: Node's CA store");

    const cases: Array<[string, string | null, RegExp]> = [
      ["missing.pem", null, /ENOENT/],
      ["dir", "(a directory)", /not a regular file/],
      ["big.pem", `${ca.cert}${"#".repeat(1024 * 1024)}`, /larger than 1024 KiB/],
      ["text.pem", "not a certificate at all", /no PEM certificate/],
      ["cut.pem", ca.cert.slice(0, 200), /no END line/],
      ["junk.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", /PEM CA bundle/],
      ["key.pem", ca.issue(["a.test"]).key, /no PEM certificate/],
    ];
    for (const [name, content, why] of cases) {
      const path = join(dir, name);
      if (name === "dir") await mkdir(path);
      else if (content !== null) await writeFile(path, content);
      const problem = refusal({ ...https, MICROSHIP_HYPEMAN_INGRESS_CA: path });
      assert.match(problem, /^MICROSHIP_HYPEMAN_INGRESS_CA: can't use .* as a PEM CA bundle/, name);
      assert.match(problem, why, name);
    }
    assert.match(refusal({ ...hypeman, MICROSHIP_HYPEMAN_INGRESS_URL: "http://10.0.0.5:8080", MICROSHIP_HYPEMAN_INGRESS_CA: bundle }), /MICROSHIP_HYPEMAN_INGRESS_CA: only with an https:\/\/ MICROSHIP_HYPEMAN_INGRESS_URL/);
    assert.match(refusal({ ...hypeman, MICROSHIP_HYPEMAN_INGRESS_CA: bundle }), /only with an https:\/\//);
  } finally {
    ca.close();
    other.close();
    await rm(dir, { recursive: true, force: true });
  }
});
