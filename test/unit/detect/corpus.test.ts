import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { planDirectory, directoryPlanJson, planOutcomeJson } from "../../../src/detect/plan-directory.ts";
import { createSourceArchive } from "../../../src/source/archive.ts";
import { isMicroshipError } from "../../../src/core/errors.ts";
import { assertError, assertOutcome, type ExpectedApp } from "./corpus-expect.ts";
import { assertGeneratedDockerfile, assertValidDockerfile, runtimeFacts, stages } from "./dockerfile-checks.ts";
import type { BuildPlan } from "../../../src/core/types.ts";
import { assertSnapshot } from "./snapshot.ts";
import { assertStaticDockerfile } from "./static-checks.ts";

/**
 * The detection corpus: every app under test/fixtures/apps goes through the code path of
 * `microship plan --json` and is checked against its expected.json; every generated Dockerfile
 * is parsed, checked for the properties we promise, and compared with its snapshot.
 */
const APPS = fileURLToPath(new URL("../../fixtures/apps/", import.meta.url));
const BIN = fileURLToPath(new URL("../../../bin/microship.js", import.meta.url));
const names = readdirSync(APPS, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
const expectedOf = (name: string): ExpectedApp => JSON.parse(readFileSync(join(APPS, name, "expected.json"), "utf8"));

const scratch = mkdtempSync(join(tmpdir(), "ms-corpus-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** The app's directory; a copy with its symlinks made, when it has any. */
function prepare(name: string, expected: ExpectedApp): string {
  if (!expected.symlinks) return join(APPS, name);
  const base = join(scratch, name);
  const dir = join(base, "repo");
  cpSync(join(APPS, name), dir, { recursive: true });
  for (const [file, text] of Object.entries(expected.outside ?? {})) {
    mkdirSync(dirname(join(base, "outside", file)), { recursive: true });
    writeFileSync(join(base, "outside", file), text);
  }
  for (const [link, target] of Object.entries(expected.symlinks)) symlinkSync(target, join(dir, link));
  return dir;
}

const planJsonOf = (plan: BuildPlan) => planOutcomeJson({ ok: true, plan }) as Record<string, any>;
const stageImages = (dockerfile: string) => stages(dockerfile).filter((x) => x.ins.getKeyword() === "FROM").map((x) => x.ins.getArgumentsContent()!.split(/\s+/)[0]);
/** The corpus plans as of one fixed day, so end-of-life warnings don't come and go with the calendar. */
export const CORPUS_TODAY = "2026-12-01";
const planJson = async (dir: string) => directoryPlanJson(await planDirectory(dir, { baseImageMirror: null, today: CORPUS_TODAY })) as Record<string, any>;

test("the corpus has at least 40 apps", () => {
  assert.ok(names.length >= 40, `only ${names.length} apps`);
});

for (const name of names) {
  test(name, async () => {
    const expected = expectedOf(name);
    const dir = prepare(name, expected);
    const json = await planJson(dir);
    assertOutcome(json, expected, name);

    const plans: Record<string, any>[] = json.apps ? json.apps.filter((a: any) => !a.error) : json.error ? [] : [json];
    const snapshots: string[] = [];
    for (const plan of plans) {
      const where = plan.app ? `${name} ${plan.app}` : name;
      assertValidDockerfile(plan.dockerfile, where);
      if (plan.runtime === "dockerfile") continue;
      if (plan.runtime === "static") assertStaticDockerfile(plan, expected.baseImage ?? "caddy:2-alpine", where);
      else assertGeneratedDockerfile(plan, expected.baseImage ?? runtimeFacts(plan.runtime).officialImage(plan.version.value), where);
      const snap = plan.app ? `${plan.app}.Dockerfile.snap` : "Dockerfile.snap";
      snapshots.push(snap);
      assertSnapshot(join(APPS, name, snap), plan.dockerfile, where);
    }
    const stray = readdirSync(join(APPS, name)).filter((f) => f.endsWith(".snap") && !snapshots.includes(f));
    assert.deepEqual(stray, [], `${name}: snapshots of no plan`);

    if (expected.archive) {
      const err = await createSourceArchive(dir, { outPath: join(scratch, `${name}.tar.gz`) }).then(() => null, (e: unknown) => e);
      assert.ok(isMicroshipError(err), `${name}: the archive was made, or failed untyped: ${String(err)}`);
      assertError({ kind: err.kind, message: err.message, title: err.title, hint: err.hint, location: err.location }, expected.archive.error, `${name} archive`);
    }
    // Whatever a symlink points at outside the repo must not leak into what users see.
    if (expected.outside) assert.doesNotMatch(JSON.stringify(json), /corpus-secret-value/);
  });
}

/** The real command line, for a few apps: same JSON as the function above, and its exit codes. */
function cli(name: string): { status: number | null; json: Record<string, any>; stderr: string } {
  const env = { ...process.env };
  delete env.MICROSHIP_BASE_IMAGE_MIRROR;
  const r = spawnSync(process.execPath, [BIN, "plan", join(APPS, name), "--json"], { env, encoding: "utf8", timeout: 60_000 });
  let json: Record<string, any> = {};
  try {
    json = JSON.parse(r.stdout);
  } catch {
    assert.fail(`${name}: stdout is not one JSON object: ${r.stdout}\n${r.stderr}`);
  }
  return { status: r.status, json, stderr: r.stderr };
}

for (const name of ["node-pnpm-build", "python-django", "monorepo-two-apps"]) {
  test(`cli: microship plan --json ${name} prints the plan and exits 0`, async () => {
    const r = cli(name);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.json, await planJson(join(APPS, name)));
    assertOutcome(r.json, expectedOf(name), `cli ${name}`);
    const first = r.json.apps ? r.json.apps[0] : r.json;
    for (const key of ["runtime", "version", "packageManager", "installCommand", "buildCommand", "startCommand", "dockerfile", "messages"]) {
      assert.ok(key in first, `cli ${name}: no ${key}`);
    }
  });
}

for (const name of ["unknown-runtime", "invalid-config-schema"]) {
  test(`cli: microship plan --json ${name} prints a user error and exits 2`, async () => {
    const r = cli(name);
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.json.error.kind, "user");
    assert.equal(typeof r.json.error.message, "string");
    assert.deepEqual(r.json, await planJson(join(APPS, name)));
    assertOutcome(r.json, expectedOf(name), `cli ${name}`);
  });
}

test("MICROSHIP_BASE_IMAGE_MIRROR's prefix stands in for Docker Hub in every FROM, and base_image still wins", async () => {
  const mirror = "registry.internal:5000/hub/";
  const plain = (await planDirectory(join(APPS, "python-pdm"), { baseImageMirror: mirror })).outcomes[0]!;
  assert.ok(plain.ok);
  assertGeneratedDockerfile(planJsonOf(plain.plan), "registry.internal:5000/hub/python:3.11-slim", "python-pdm mirrored");
  const pinned = (await planDirectory(join(APPS, "node-base-image"), { baseImageMirror: mirror })).outcomes[0]!;
  assert.ok(pinned.ok);
  assert.deepEqual(stageImages(pinned.plan.dockerfile), [expectedOf("node-base-image").baseImage, expectedOf("node-base-image").baseImage]);
});
