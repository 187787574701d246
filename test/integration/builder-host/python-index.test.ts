import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HostBuilder } from "../../../src/builder/host/host-builder.ts";
import { startEmbeddedRegistry, type EmbeddedRegistry } from "../../../src/registry/embedded-registry.ts";
import { ensureBaseImages, CACHE, type BaseImages } from "../../helpers/base-images.ts";
import { startPythonIndex, type PythonIndex } from "../../helpers/package-index.ts";
import { contractArchive, type ContractArchive } from "../../helpers/contract-archive.ts";
import { runImageOutput } from "../../helpers/run-image-output.ts";
import { uniqueId } from "../../helpers/contract-probes.ts";
import { quietLog } from "../../helpers/pipeline-doubles.ts";
import { cleanupAll } from "../../helpers/cleanup.ts";

let base: BaseImages;
let index: PythonIndex;
let registry: EmbeddedRegistry;
let archive: ContractArchive;
let dir: string;

before(async () => {
  base = await ensureBaseImages();
  index = await startPythonIndex(["flask", "gunicorn"]);
  dir = await mkdtemp(join(tmpdir(), "ms-pyindex-"));
  registry = await startEmbeddedRegistry({ dataDir: dir, log: quietLog });
  archive = await contractArchive();
});

after(async () => {
  await cleanupAll(
    () => registry?.stop(),
    () => index?.stop(),
    () => base?.stop(),
    () => archive?.remove(),
    () => dir && rm(dir, { recursive: true, force: true }),
  );
});

test("the local index serves what `pip install flask gunicorn` needs, in a venv of the python stand-in", { timeout: 600_000 }, async () => {
  assert.deepEqual(index.projects.filter((p) => ["flask", "gunicorn", "werkzeug", "jinja2", "markupsafe", "itsdangerous", "click"].includes(p)).length, 7);
  const builder = new HostBuilder({ dir: join(CACHE, "host-builder") });
  const id = uniqueId();
  const handle = builder.build({
    buildId: id,
    source: archive.source,
    dockerfile: [
      `FROM ${base.mirror}/python:3.11-slim`,
      "ARG PIP_INDEX_URL",
      "ARG PIP_TRUSTED_HOST",
      "RUN python -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir -q flask gunicorn",
      'CMD ["sh", "-c", "/opt/venv/bin/gunicorn --version && /opt/venv/bin/python -c \\"import flask, markupsafe; print(\'flask\', flask.__version__, markupsafe.escape(\'<ok>\'))\\""]',
      "",
    ].join("\n"),
    imageName: `${registry.address}/test/python-index`,
    tags: [id],
    buildArgs: { PIP_INDEX_URL: index.url, PIP_TRUSTED_HOST: index.trustedHost },
    cacheScope: "test/python-index",
    untrusted: false,
    registryAuth: registry.auth,
    noCache: false,
    timeoutSeconds: 500,
    secrets: [],
    runtime: null,
    baseImageDigest: null,
    signal: new AbortController().signal,
  });
  const lines: string[] = [];
  const drained = (async () => {
    for await (const l of handle.logs) lines.push(l.text);
  })();
  const result = await handle.result.catch((err) => assert.fail(`${err.message}\n${lines.slice(-40).join("\n")}`));
  await drained;
  const out = await runImageOutput(result.imageRef, { auth: registry.auth });
  assert.match(out, /gunicorn \(version 20\.1\.0\)/);
  assert.match(out, /flask 2\.2\.2 &lt;ok&gt;/);
});
