import { test } from "node:test";
import assert from "node:assert/strict";
import { RouteTable } from "../../../src/deploy/proxy/route-table.ts";
import { wakeFailedPage, wakingPage } from "../../../src/deploy/proxy/proxy-pages.ts";

test("the route table keeps a last-request time only for names it routes: a flood of unknown hosts adds nothing", () => {
  let now = 5;
  const routes = new RouteTable({ domain: "localhost", now: () => now });
  for (let i = 0; i < 10_000; i++) routes.touch(`nope-${i}`);
  assert.equal(routes.lastRequestAt("nope-1"), null);
  routes.set({ name: "pr-1", instance: "a", port: 1 });
  assert.equal(routes.lastRequestAt("pr-1"), 5, "a new route counts as a request");
  now = 9;
  routes.touch("pr-1");
  assert.equal(routes.lastRequestAt("pr-1"), 9);
  routes.remove("pr-1");
  assert.equal(routes.lastRequestAt("pr-1"), null);
});

test("a stale sleep can't mark a newer instance's route sleeping", () => {
  const routes = new RouteTable({ domain: "localhost" });
  routes.set({ name: "pr-1", instance: "new", port: 1 });
  assert.equal(routes.sleep("pr-1", "old"), false);
  assert.equal(routes.get("pr-1")?.sleeping, undefined);
  assert.equal(routes.sleep("pr-1", "new"), true);
  assert.equal(routes.get("pr-1")?.sleeping, true);
  assert.deepEqual(routes.wake("pr-1"), { kind: "failed", retryInS: 60 }, "no waker: said, not a hang");
});

test("the waking and wake-failed pages escape what they show and carry no script", () => {
  for (const page of [wakingPage("<img src=x onerror=alert(1)>", "a\"b", 5), wakeFailedPage("<script>x</script>", "&d", 30)]) {
    assert.doesNotMatch(page, /<script|<img/i);
    assert.match(page, /&#60;/);
    assert.match(page, /<meta http-equiv="refresh" content="\d+">/);
  }
  assert.match(wakingPage("x", "y", 0), /content="1"/, "never a zero-second refresh loop");
});
