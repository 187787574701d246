import { test } from "node:test";
import assert from "node:assert/strict";
import { loadEnv, EnvError } from "../../../src/config/env.ts";
import { hypemanBaseURLs, MAX_HYPEMAN_SERVERS } from "../../../src/config/hypeman-base-urls.ts";

const problems = (value: string): string[] => {
  try {
    loadEnv({ MICROSHIP_BUILDER: "hypeman", HYPEMAN_BASE_URL: value });
    return [];
  } catch (err) {
    assert.ok(err instanceof EnvError);
    return err.problems;
  }
};

test("one Hypeman URL is taken as it is", () => {
  const env = loadEnv({ MICROSHIP_BUILDER: "hypeman", HYPEMAN_BASE_URL: "https://hypeman.example.com" });
  assert.equal(env.HYPEMAN_BASE_URL, "https://hypeman.example.com");
  assert.deepEqual(hypemanBaseURLs(env.HYPEMAN_BASE_URL!), ["https://hypeman.example.com"]);
});

test("several Hypeman URLs, comma-separated, spaces and a trailing comma allowed", () => {
  const env = loadEnv({ MICROSHIP_BUILDER: "hypeman", HYPEMAN_BASE_URL: " https://a.example.com , http://10.0.0.2:8080,\n" });
  assert.deepEqual(hypemanBaseURLs(env.HYPEMAN_BASE_URL!), ["https://a.example.com", "http://10.0.0.2:8080"]);
});

test("each URL is checked, and a bad one is named by its place, not its text", () => {
  const p = problems("https://a.example.com,ftp://user:s3cret-token@b.example.com,not a url");
  assert.deepEqual(p, ["HYPEMAN_BASE_URL: server 2: expected an http:// or https:// URL", "HYPEMAN_BASE_URL: server 3: expected an http:// or https:// URL"]);
  assert.match(problems("https://a.example.com,https://a.example.com/")[0]!, /server 2: listed twice/);
  assert.match(problems(" , ,")[0]!, /expected a URL/);
});

test("the number of servers and the variable's length are bounded", () => {
  const many = Array.from({ length: MAX_HYPEMAN_SERVERS + 1 }, (_, i) => `http://h${i}.example.com`).join(",");
  assert.match(problems(many)[0]!, new RegExp(`at most ${MAX_HYPEMAN_SERVERS} servers`));
  const allowed = Array.from({ length: MAX_HYPEMAN_SERVERS }, (_, i) => `http://h${i}.example.com`).join(",");
  assert.deepEqual(problems(allowed), []);
  assert.match(problems(`http://a.example.com/${"x".repeat(10_000)}`)[0]!, /^HYPEMAN_BASE_URL: /);
});
