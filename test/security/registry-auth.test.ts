import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, readlink, rm, stat } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmbeddedRegistry, type EmbeddedRegistry } from "../../src/registry/embedded-registry.ts";
import type { RegistryCredential } from "../../src/core/ports.ts";
import { quietLog } from "../helpers/pipeline-doubles.ts";
import { leftoverProcesses } from "../helpers/contract-probes.ts";
import { pushTinyImage, registryCall, sha256, uploadBlob } from "../helpers/registry-http.ts";

// Hole 7: the embedded registry had no authentication and allowed deletes, and every build could
// reach it. Each case here is a request an attacker's build (or anyone on the host) could send.

let dir: string;
let reg: EmbeddedRegistry;
let op: RegistryCredential;
let main: { manifest: string; layer: string; config: string };
let other: { manifest: string; layer: string };
const SHA = "a".repeat(40);
const OCI = { headers: { accept: "application/vnd.oci.image.manifest.v1+json" } };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "ms-sec-registry-"));
  reg = await startEmbeddedRegistry({ dataDir: dir, log: quietLog });
  op = reg.auth;
  // What other repositories already hold: octo-org/shop:main from a trusted push, and a private
  // image of other-org.
  const m = await pushTinyImage(reg.address, "octo-org/shop", "main", op);
  assert.equal(m.status, 201);
  main = m;
  const o = await pushTinyImage(reg.address, "other-org/shop", "main", op);
  assert.equal(o.status, 201);
  other = o;
});

after(async () => {
  await reg?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const build = (o: { scope?: string; tags?: string[]; pull?: boolean; ttlSeconds?: number } = {}) =>
  reg.credentials.issue({ buildId: "build-1", scope: o.scope ?? "octo-org/shop", tags: o.tags ?? [SHA, "feature-x"], pull: o.pull ?? true, ttlSeconds: o.ttlSeconds ?? 600 });
const fork = () => build({ tags: [SHA, "pr-7"], pull: false });

test("without credentials nothing is served: ping, catalog, pull and push all answer 401", async () => {
  for (const [method, path] of [
    ["GET", "/v2/"],
    ["GET", "/v2/_catalog"],
    ["GET", "/v2/octo-org/shop/manifests/main"],
    ["HEAD", "/v2/octo-org/shop/manifests/main"],
    ["GET", "/v2/octo-org/shop/tags/list"],
    ["POST", "/v2/octo-org/shop/blobs/uploads/"],
  ] as const) {
    const r = await registryCall(reg.address, method, path, null);
    assert.equal(r.status, 401, `${method} ${path}`);
    assert.match(r.headers.get("www-authenticate") ?? "", /^Basic /, "clients are told to authenticate");
  }
  assert.equal(await uploadBlob(reg.address, "octo-org/shop", Buffer.from("x"), null), 401);
});

test("wrong, forged, tampered and expired credentials are refused like none", async () => {
  const good = build();
  const [v, claims, mac] = good.password.split(".");
  const widened = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(claims!, "base64url").toString()), s: "other-org/shop" })).toString("base64url");
  const cases: RegistryCredential[] = [
    { username: op.username, password: "guess" },
    { username: "build-1", password: `${v}.${widened}.${mac}` },
    { username: "build-2", password: good.password },
    { username: "build-1", password: `${v}.${claims}.${"A".repeat(mac!.length)}` },
    build({ ttlSeconds: -1 }),
  ];
  for (const c of cases) assert.equal((await registryCall(reg.address, "GET", "/v2/octo-org/shop/manifests/main", c)).status, 401, c.password.slice(0, 40));
});

test("a build credential for octo-org/shop reaches nothing outside octo-org/shop", async () => {
  const c = build();
  for (const name of ["other-org/shop", "octo-org/shop-evil", "octo-org/shopx", "octo-org", "octo-org/sho"]) {
    assert.equal(await uploadBlob(reg.address, name, Buffer.from("evil"), c), 403, `push to ${name}`);
    assert.equal((await registryCall(reg.address, "GET", `/v2/${name}/manifests/main`, c)).status, 403, `pull ${name}`);
    assert.equal((await registryCall(reg.address, "GET", `/v2/${name}/tags/list`, c)).status, 403, `tags of ${name}`);
  }
  assert.equal((await registryCall(reg.address, "GET", `/v2/other-org/shop/blobs/${other.layer}`, c)).status, 403);
  assert.equal((await registryCall(reg.address, "GET", "/v2/_catalog", c)).status, 403, "no catalog for builds");
  // Its own namespace, and names below it, work.
  assert.equal(await uploadBlob(reg.address, "octo-org/shop", Buffer.from("mine"), c), 201);
  assert.equal(await uploadBlob(reg.address, "octo-org/shop/api", Buffer.from("mine"), c), 201);
});

test("paths that read two ways never pass: traversal, escapes, empty segments, a route word as a repo", async () => {
  const c = build();
  for (const path of [
    "/v2/octo-org/shop/../../other-org/shop/manifests/main",
    "/v2/octo-org/shop/%2e%2e/%2e%2e/other-org/shop/manifests/main",
    "/v2/octo-org/shop/./manifests/main",
    "/v2/octo-org//shop/manifests/main",
    "/v2/octo-org/shop%2Fmanifests/main",
    "/v2/OCTO-ORG/shop/manifests/main",
  ]) {
    const r = await registryCall(reg.address, "GET", path, c);
    assert.ok(r.status === 404 || r.status === 403 || r.status === 400, `${path}: ${r.status}`);
  }
  // Scope `x/blobs` must not reach repository `x`, which distribution routes `/v2/x/blobs/uploads/` to.
  const blobsRepo = build({ scope: "octo-org/blobs" });
  assert.equal(await uploadBlob(reg.address, "octo-org", Buffer.from("y"), blobsRepo), 403);
  assert.equal((await registryCall(reg.address, "POST", "/v2/octo-org/blobs/uploads/", blobsRepo)).status, 403);
  const manifestsRepo = build({ scope: "octo-org/manifests", tags: ["main"] });
  assert.equal((await registryCall(reg.address, "PUT", "/v2/octo-org/manifests/main", manifestsRepo, { body: "{}" })).status, 403);
});

test("nobody deletes: not a build, not the operator; the registry has deletes off as well", async () => {
  for (const c of [build(), op]) {
    assert.equal((await registryCall(reg.address, "DELETE", `/v2/octo-org/shop/manifests/${main.manifest}`, c)).status, 405);
    assert.equal((await registryCall(reg.address, "DELETE", `/v2/octo-org/shop/blobs/${main.layer}`, c)).status, 405);
    const start = await registryCall(reg.address, "POST", "/v2/octo-org/shop/blobs/uploads/", c);
    const loc = new URL(start.headers.get("location")!, `http://${reg.address}`);
    assert.equal((await registryCall(reg.address, "DELETE", `${loc.pathname}${loc.search}`, c)).status, 405);
  }
  assert.equal((await registryCall(reg.address, "HEAD", `/v2/octo-org/shop/manifests/main`, op, OCI)).status, 200, "main is still there");
  const configs = (await readdir(join(dir, "registry"))).filter((f) => f.startsWith("config-"));
  for (const f of configs) assert.match(readFileSync(join(dir, "registry", f), "utf8"), /delete:\n\s+enabled: false/);
});

test("manifests are written only under the build's own tags: a fork's build can't overwrite :main", async () => {
  const f = fork();
  const own = await pushTinyImage(reg.address, "octo-org/shop", "pr-7", f);
  assert.equal(own.status, 201, "a fork's build pushes its own pr tag");
  for (const tag of ["main", "latest", "pr-8", "feature-x"]) {
    const r = await pushTinyImage(reg.address, "octo-org/shop", tag, f);
    assert.equal(r.status, 403, `fork overwriting :${tag}`);
  }
  const t = build({ tags: [SHA, "feature-x"] });
  assert.equal((await pushTinyImage(reg.address, "octo-org/shop", "main", t)).status, 403, "a branch build can't write :main");
  const head = await registryCall(reg.address, "HEAD", "/v2/octo-org/shop/manifests/main", op, OCI);
  assert.equal(head.headers.get("docker-content-digest"), main.manifest, ":main is untouched");
});

test("a fork's build reads back only what it pushes: no blobs, no tag list, no other tag of the base repo", async () => {
  const f = fork();
  assert.equal((await registryCall(reg.address, "GET", "/v2/octo-org/shop/manifests/main", f, OCI)).status, 403);
  assert.equal((await registryCall(reg.address, "GET", `/v2/octo-org/shop/blobs/${main.layer}`, f)).status, 403);
  assert.equal((await registryCall(reg.address, "GET", "/v2/octo-org/shop/tags/list", f)).status, 403);
  // A trusted build of the same repository may pull its own images (FROM an earlier build).
  assert.equal((await registryCall(reg.address, "GET", `/v2/octo-org/shop/blobs/${main.layer}`, build())).status, 200);
});

test("a cross-repository mount is no way around the scope: it becomes a plain upload", async () => {
  const c = build();
  const r = await registryCall(reg.address, "POST", `/v2/octo-org/shop/blobs/uploads/?mount=${other.layer}&from=other-org/shop`, c);
  assert.equal(r.status, 202, "an upload was started, nothing was mounted");
  assert.equal((await registryCall(reg.address, "HEAD", `/v2/octo-org/shop/blobs/${other.layer}`, op)).status, 404, "other-org's layer is not linked into octo-org/shop");
  // The operator may mount (distribution itself allows it), so the refusal above is the front's.
  const m = await registryCall(reg.address, "POST", `/v2/octo-org/mirror/blobs/uploads/?mount=${other.layer}&from=other-org/shop`, op);
  assert.equal(m.status, 201);
});

test("the registry itself has no TCP port: only a unix socket in a directory only its owner enters", async () => {
  const [line] = await leftoverProcesses([dir]);
  const pid = Number(line!.split(" ")[0]);
  const inodes = new Set<string>();
  for (const fd of await readdir(`/proc/${pid}/fd`)) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => "");
    const m = /^socket:\[(\d+)\]$/.exec(target);
    if (m) inodes.add(m[1]!);
  }
  for (const table of ["tcp", "tcp6", "udp", "udp6"]) {
    const rows = readFileSync(`/proc/net/${table}`, "utf8").split("\n").slice(1).filter(Boolean).map((l) => l.trim().split(/\s+/));
    const listening = rows.filter((r) => inodes.has(r[9]!));
    assert.deepEqual(listening, [], `distribution holds a ${table} socket`);
  }
  const run = join(dir, "registry", "run");
  assert.equal((await stat(run)).mode & 0o777, 0o700);
  assert.ok((await readdir(run)).some((f) => f.endsWith(".sock")));
  // And through the front, the operator reaches what it pushed.
  const got = await registryCall(reg.address, "GET", `/v2/octo-org/shop/blobs/${main.config}`, op);
  assert.equal(sha256(got.text), main.config);
});
