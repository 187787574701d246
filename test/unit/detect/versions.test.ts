import { test } from "node:test";
import assert from "node:assert/strict";
import { resolveNodeMajor, resolvePython } from "../../../src/detect/versions.ts";
import { isMicroshipError } from "../../../src/core/errors.ts";

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

test("a Node version or range gives the newest supported major inside it", () => {
  const cases: [string, string][] = [
    ["20", "20"], ["v22.9.0", "22"], ["24.1", "24"], [">=18", "24"], ["^20 || ^22", "22"], [">=20 <23", "22"],
    ["20.x", "20"], ["~22.3", "22"], ["*", "24"], ["lts/*", "24"], ["node", "24"], ["lts/jod", "22"], ["lts/iron", "20"],
  ];
  for (const [spec, major] of cases) assert.equal(node(spec), major, spec);
});

test("a Node version outside the supported set is a user error listing the set", () => {
  for (const spec of ["18", "^16", "<20", "lts/hydrogen", "banana"]) {
    assert.match(userErrorOf(() => node(spec)), /not supported; microship builds Node 20, 22, 24\.$/, spec);
  }
});

test("a Python version picks its line; a range prefers the default 3.12, else the newest it allows", () => {
  const cases: [string, string][] = [
    ["3.11", "3.11"], ["3.13.1", "3.13"], ["python-3.11.4", "3.11"], ["3", "3.12"],
    [">=3.9", "3.12"], [">=3.13", "3.13"], [">=3.11,<3.12", "3.11"], ["<3.12", "3.11"], ["<=3.11", "3.11"],
    ["~=3.11", "3.12"], ["~=3.11.2", "3.11"], [">=3.11.4", "3.12"], ["==3.11.*", "3.11"], ["==3.13", "3.13"],
    [">=3.10,!=3.12", "3.13"], [">=3.11", "3.12"],
  ];
  for (const [spec, version] of cases) assert.equal(python(spec), version, spec);
});

test("a Python version outside the supported set is a user error listing the set", () => {
  for (const spec of ["3.9", "2.7", "<3.11", ">=3.14", "^3.11"]) {
    assert.match(userErrorOf(() => python(spec)), /not supported; microship builds Python 3\.11, 3\.12, 3\.13\.$/, spec);
  }
});
