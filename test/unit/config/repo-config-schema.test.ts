import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv2020 } from "ajv/dist/2020.js";
import { parse as parseYaml } from "yaml";
import { repoConfigJsonSchemaText, SCHEMA_FILE } from "../../../scripts/gen-schema.ts";
import { parseRepoConfig, REPO_CONFIG_PATH } from "../../../src/core/repo-config.ts";

const APPS = fileURLToPath(new URL("../../fixtures/apps/", import.meta.url));
const committed = readFileSync(SCHEMA_FILE, "utf8");
const validate = new Ajv2020({ strict: true, allErrors: true }).compile(JSON.parse(committed));

test("schema/microship.schema.json is what the zod schema generates (npm run schema rewrites it)", () => {
  assert.equal(committed, repoConfigJsonSchemaText());
});

test("every corpus config that parses as YAML gets the same verdict from the JSON Schema as from zod", () => {
  const configs = readdirSync(APPS)
    .map((app) => join(APPS, app, REPO_CONFIG_PATH))
    .filter((file) => existsSync(file));
  assert.ok(configs.length >= 10, `only ${configs.length} corpus configs`);
  let valid = 0;
  let invalid = 0;
  for (const file of configs) {
    const text = readFileSync(file, "utf8");
    let data: unknown;
    try {
      data = parseYaml(text) ?? {};
    } catch {
      continue; // not YAML at all: the editor's YAML parser reports it, not the schema
    }
    const zodOk = parseRepoConfig(text).ok;
    assert.equal(validate(data), zodOk, `${file}: zod says ${zodOk ? "valid" : "invalid"}, the JSON Schema ${JSON.stringify(validate.errors)}`);
    if (zodOk) valid++;
    else invalid++;
  }
  assert.ok(valid >= 5 && invalid >= 3, `valid ${valid}, invalid ${invalid}: the corpus should have both`);
});

test("a config using every field validates, and _extends is allowed for editors", () => {
  const full = {
    _extends: ".github",
    root: "apps/web",
    runtime: "nodejs22",
    version: "22",
    base_image: "node:22-slim@sha256:" + "ab".repeat(32),
    build_args: { APP_FLAVOUR: "prod" },
    start: "node server.js",
    branches: ["main", "release/*"],
    paths: ["apps/web/**"],
    image: "{owner}/{repo}/{app}",
    timeout: 600,
    env: { NODE_OPTIONS: "--max-old-space-size=512" },
    builds: [{ name: "web", root: "apps/web", dockerfile: "Dockerfile.prod" }],
    deploy: {
      port: 3000, health: "/healthz", env: { LOG_LEVEL: "info" }, secrets: ["DATABASE_URL"],
      environments: { production: { branch: "main" }, staging: { branch: "develop" } },
      preview: { enabled: true, forks: false, idle_minutes: 60, ttl_days: 7, env: { DEMO: "1" } }, release: "npm run migrate",
    },
  };
  assert.equal(validate(full), true, JSON.stringify(validate.errors));
  const { _extends, ...withoutExtends } = full;
  assert.equal(parseRepoConfig(JSON.stringify(withoutExtends)).ok, true);
});

test("the JSON Schema rejects what zod rejects, with the field named", () => {
  const cases: [unknown, string][] = [
    [{ timeout: 5 }, "/timeout"],
    [{ runtime: "ruby" }, "/runtime"],
    [{ builds: [{ name: "Web App" }] }, "/builds/0/name"],
    [{ builds: [] }, "/builds"],
    [{ env: { "API URL": "x" } }, "/env"],
    [{ rot: "apps/web" }, ""],
  ];
  for (const [data, path] of cases) {
    assert.equal(validate(data), false, JSON.stringify(data));
    assert.ok(validate.errors!.some((e) => e.instancePath === path), `${JSON.stringify(data)}: ${JSON.stringify(validate.errors)}`);
    assert.equal(parseRepoConfig(JSON.stringify(data)).ok, false, JSON.stringify(data));
  }
});
