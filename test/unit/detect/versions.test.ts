import { test } from "node:test";
import assert from "node:assert/strict";
import { resolveNodeMajor, resolvePython } from "../../../src/detect/versions.ts";
import { isMicroshipError } from "../../../src/core/errors.ts";
import { NODE, PYTHON, endOfLifeWarning } from "../../../src/detect/runtime-versions.ts";

const node = (spec: string) => resolveNodeMajor(spec, "test").value;
const python = (spec: string) => resolvePython(spec, "test").value;
const userErrorOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    assert.ok(isMicroshipError(err) && err.kind === "user", String(err));
    return err.message;
  }
  assert.fail("no error");
};

test("a Node version is its major; a range gives the default, else its newest long-term major, else its newest", () => {
  const cases: [string, string][] = [
    ["20", "20"], ["v22.9.0", "22"], ["24.1", "24"], [">=18", "24"], ["^20 || ^22", "22"], [">=20 <23", "22"],
    ["20.x", "20"], ["~22.3", "22"], ["*", "24"], ["lts/*", "24"], ["node", "24"], ["lts/jod", "22"], ["lts/iron", "20"],
    ["18", "18"], ["^18.17.0", "18"], ["16", "16"], ["lts/hydrogen", "18"], ["lts/gallium", "16"], ["17", "17"], ["25", "25"],
    [">=25", "25"], ["<20", "18"], [">=19 <21", "20"], ["^23 || ^25", "25"],
  ];
  for (const [spec, major] of cases) assert.equal(node(spec), major, spec);
});

test("a Node version with no image microship builds on is a user error listing every one it builds", () => {
  for (const spec of ["14", "^12", "<16", ">=26", "lts/fermium", "lts/nonsense", "banana"]) {
    assert.match(userErrorOf(() => node(spec)), /not supported: microship builds Node 16, 17, 18, 19, 20, 21, 22, 23, 24 and 25, /, spec);
  }
});

test("a Python version picks its line; a range prefers the default 3.12, else the newest it allows", () => {
  const cases: [string, string][] = [
    ["3.11", "3.11"], ["3.13.1", "3.13"], ["python-3.11.4", "3.11"], ["3", "3.12"],
    [">=3.9", "3.12"], [">=3.13", "3.14"], [">=3.11,<3.12", "3.11"], ["<3.12", "3.11"], ["<=3.11", "3.11"],
    ["~=3.11", "3.12"], ["~=3.11.2", "3.11"], [">=3.11.4", "3.12"], ["==3.11.*", "3.11"], ["==3.13", "3.13"],
    [">=3.10,!=3.12", "3.14"], [">=3.11", "3.12"], ["3.14", "3.14"], ["3.9", "3.9"], ["3.8.18", "3.8"], ["3.10", "3.10"],
    ["<3.10", "3.9"], ["==3.9.*", "3.9"],
  ];
  for (const [spec, version] of cases) assert.equal(python(spec), version, spec);
});

test("a Python version with no image microship builds on is a user error listing every one it builds", () => {
  for (const spec of ["3.7", "2.7", "<3.8", ">=3.15", "^3.11", "3.15"]) {
    assert.match(userErrorOf(() => python(spec)), /not supported: microship builds Python 3\.8, 3\.9, 3\.10, 3\.11, 3\.12, 3\.13 and 3\.14, /, spec);
  }
});

test("a version past its end of life warns with the date; one still supported on that day doesn't", () => {
  assert.equal(endOfLifeWarning(NODE, "20", "2026-04-30"), null, "the last day of support");
  assert.match(endOfLifeWarning(NODE, "20", "2026-05-01")!, /^Node 20 reached its end of life on 2026-04-30 .* Node 24\.$/);
  assert.equal(endOfLifeWarning(PYTHON, "3.12", "2026-12-01"), null);
  assert.match(endOfLifeWarning(PYTHON, "3.9", "2026-12-01")!, /^Python 3\.9 reached its end of life on 2025-10-31/);
});

test("the version table: newest first, each date a real day, the default in it and not past its end of life when written", () => {
  for (const family of [NODE, PYTHON]) {
    const numbers = family.versions.map((v) => v.version.split(".").map(Number));
    for (let i = 1; i < numbers.length; i++) assert.ok(numbers[i - 1]!.join(".") !== numbers[i]!.join(".") && (numbers[i - 1]![0]! > numbers[i]![0]! || numbers[i - 1]![1]! > numbers[i]![1]!), `${family.label}: not newest first`);
    for (const v of family.versions) assert.equal(new Date(`${v.endOfLife}T00:00:00Z`).toISOString().slice(0, 10), v.endOfLife, `${family.label} ${v.version}`);
    const def = family.versions.find((v) => v.version === family.default);
    assert.ok(def && def.endOfLife > "2026-12-01", `${family.label}: the default ${family.default}`);
  }
});
