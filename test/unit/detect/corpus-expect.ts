import assert from "node:assert/strict";

/** What an app's expected.json says; see test/fixtures/apps/README.md. */
export interface ExpectedApp {
  about: string;
  plan?: ExpectedPlan;
  error?: ExpectedError;
  apps?: ({ app: string } & ({ plan: ExpectedPlan } | { error: ExpectedError }))[];
  /** Files written next to the app's copy, for symlinks to point at. */
  outside?: Record<string, string>;
  /** Symlinks made in a copy of the app at run time: path → target. */
  symlinks?: Record<string, string>;
  archive?: { error: ExpectedError };
  /** The FROM every stage must use, when not the official default. */
  baseImage?: string;
}

export interface ExpectedMessage {
  level: "info" | "warning" | "error";
  /** A regular expression. */
  text: string;
}

/** Plan fields compared exactly, except `messages`, whose texts are regular expressions. */
export type ExpectedPlan = Record<string, unknown> & { messages?: ExpectedMessage[] };

export interface ExpectedError {
  kind: string;
  /** Regular expressions. */
  message: string;
  hint?: string;
  title?: string;
  location?: Record<string, unknown>;
}

type Json = Record<string, any>;

export function assertPlan(actual: Json, expected: ExpectedPlan, where: string): void {
  assert.equal(actual.error, undefined, `${where}: expected a plan, got the error ${JSON.stringify(actual.error)}`);
  const { messages, ...fields } = expected;
  for (const [key, value] of Object.entries(fields)) {
    assert.deepEqual(actual[key], value, `${where}: ${key}`);
  }
  const got = (actual.messages ?? []) as ExpectedMessage[];
  for (const m of messages ?? []) {
    assert.ok(got.some((g) => g.level === m.level && new RegExp(m.text).test(g.text)), `${where}: no ${m.level} message matching /${m.text}/ among ${JSON.stringify(got, null, 2)}`);
  }
  // A warning nobody expected is a finding: every warning the corpus produces is written down.
  for (const g of got.filter((m) => m.level !== "info")) {
    assert.ok((messages ?? []).some((m) => m.level === g.level && new RegExp(m.text).test(g.text)), `${where}: unexpected ${g.level}: ${g.text}`);
  }
}

export function assertError(actual: Json | undefined, expected: ExpectedError, where: string): void {
  assert.ok(actual, `${where}: expected a ${expected.kind} error, got none`);
  assert.equal(actual.kind, expected.kind, `${where}: kind (message: ${actual.message})`);
  assert.match(actual.message, new RegExp(expected.message), `${where}: message`);
  if (expected.title !== undefined) assert.equal(actual.title, expected.title, `${where}: title`);
  if (expected.hint !== undefined) assert.match(String(actual.hint), new RegExp(expected.hint), `${where}: hint`);
  for (const [key, value] of Object.entries(expected.location ?? {})) {
    assert.deepEqual(actual.location?.[key], value, `${where}: location.${key}`);
  }
}

/** Checks the `microship plan --json` object of one app directory against its expected.json. */
export function assertOutcome(actual: Json, expected: ExpectedApp, where: string): void {
  if (expected.apps) {
    assert.ok(Array.isArray(actual.apps), `${where}: expected { apps: [...] }, got ${Object.keys(actual).join(", ")}`);
    assert.deepEqual(actual.apps.map((a: Json) => a.app), expected.apps.map((a) => a.app), `${where}: app names`);
    expected.apps.forEach((e, i) => {
      if ("plan" in e) assertPlan(actual.apps[i], e.plan, `${where} ${e.app}`);
      else assertError(actual.apps[i].error, e.error, `${where} ${e.app}`);
    });
  } else if (expected.error) {
    assertError(actual.error, expected.error, where);
  } else {
    assert.ok(expected.plan, `${where}: expected.json needs plan, error or apps`);
    assertPlan(actual, expected.plan, where);
  }
}
