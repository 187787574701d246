import { test } from "node:test";
import assert from "node:assert/strict";
import { parseDeployHost } from "../../../src/deploy/proxy/deploy-host.ts";
import { RouteTable } from "../../../src/deploy/proxy/route-table.ts";
import { deployRoutes } from "../../../src/deploy/proxy/deploy-routes.ts";
import { deploymentName } from "../../../src/deploy/microvm/deployment-name.ts";
import { unknownDeploymentPage } from "../../../src/deploy/proxy/proxy-pages.ts";

const p = (h: string | undefined, domain = "localhost") => parseDeployHost(h, domain);

test("a deployment host is one valid label under the domain, with or without a port or a trailing dot", () => {
  assert.deepEqual(p("pr-12-web-shop.localhost:3000"), { kind: "deployment", name: "pr-12-web-shop" });
  assert.deepEqual(p("pr-12-web-shop.localhost"), { kind: "deployment", name: "pr-12-web-shop" });
  assert.deepEqual(p("pr-12-web-shop.localhost.:3000"), { kind: "deployment", name: "pr-12-web-shop" });
  assert.deepEqual(p("PR-12-Web-Shop.LOCALHOST"), { kind: "deployment", name: "pr-12-web-shop" });
  assert.deepEqual(p("app.preview.example.com", "preview.example.com"), { kind: "deployment", name: "app" });
  // IDN labels arrive as punycode, which is a valid label.
  assert.deepEqual(p("xn--bcher-kva.localhost"), { kind: "deployment", name: "xn--bcher-kva" });
});

test("hosts outside the domain are microship's own", () => {
  for (const h of [undefined, "", "localhost", "localhost:3000", "127.0.0.1:3000", "[::1]:3000", "ship.example.com", "evillocalhost", "x.localhost.evil.com"]) {
    assert.deepEqual(p(h), { kind: "other" }, String(h));
  }
});

test("hostile hosts under the domain are refused, never routed and never handed to microship's pages", () => {
  const hostile = [
    `${"a".repeat(64)}.localhost`, // one label too long
    `${"a".repeat(300)}.localhost`, // the whole header too long
    `${"a.".repeat(5000)}localhost:3000`,
    "a.b.localhost", // two labels
    ".localhost", "-x.localhost", "x-.localhost", "a_b.localhost", "a b.localhost", "a%2e.localhost",
    "bücher.localhost", // raw non-ASCII
    "<script>.localhost",
    "a.localhost:99999999", // not a port: the whole text is the host, which still names the domain
    "a.localhost:x",
  ];
  for (const h of hostile) assert.equal(p(h).kind, "invalid", h.slice(0, 80));
});

test("parsing a huge header takes linear time (no backtracking)", () => {
  const started = process.hrtime.bigint();
  for (let i = 0; i < 200; i++) p(`${"-".repeat(100_000)}.localhost`);
  assert.ok(Number(process.hrtime.bigint() - started) / 1e9 < 10, "well within bounds");
});

test("the route table moves a name at once, and a stale unregister can't remove the newer route", () => {
  const t = new RouteTable({ domain: "localhost" });
  t.set({ name: "pr-1-shop-abc123", instance: "v1", port: 1001 });
  assert.deepEqual(t.lookup("pr-1-shop-abc123.localhost:3000"), { kind: "route", route: { name: "pr-1-shop-abc123", instance: "v1", port: 1001 } });
  t.set({ name: "pr-1-shop-abc123", instance: "v2", port: 1002 });
  assert.equal(t.remove("pr-1-shop-abc123", "v1"), false, "v1 no longer owns the name");
  assert.equal(t.get("pr-1-shop-abc123")?.port, 1002);
  assert.deepEqual(t.lookup("nope.localhost"), { kind: "unknown", name: "nope" });
  assert.deepEqual(t.lookup("a.b.localhost"), { kind: "unknown", name: null });
  assert.equal(t.remove("pr-1-shop-abc123"), true);
  assert.deepEqual(t.names(), []);
});

test("URLs: the listening port by default; the public URL's scheme and port with a domain, whose own host is never a deployment", () => {
  const local = deployRoutes({ domain: undefined, publicUrl: "http://microship.test" });
  local.listening(41234);
  assert.equal(local.url("pr-12-web-shop-1a2b3c"), "http://pr-12-web-shop-1a2b3c.localhost:41234");
  const pub = deployRoutes({ domain: "example.com", publicUrl: "https://ship.example.com" });
  pub.listening(3000);
  assert.equal(pub.url("pr-1"), "https://pr-1.example.com");
  assert.deepEqual(pub.lookup("ship.example.com"), { kind: "other" });
  assert.deepEqual(pub.lookup("pr-1.example.com").kind, "unknown");
  const port = deployRoutes({ domain: "example.com", publicUrl: "http://ship.example.com:8080/" });
  assert.equal(port.url("pr-1"), "http://pr-1.example.com:8080");
});

test("deployment names are one DNS label, readable, and keep two owners apart", () => {
  const target = { kind: "preview" as const, environment: "preview/pr-12", slug: "pr-12", transient: true, production: false };
  const a = deploymentName({ owner: "octo", repo: "shop", app: "web", target });
  assert.match(a, /^pr-12-web-shop-[0-9a-f]{6}$/);
  assert.notEqual(a, deploymentName({ owner: "other", repo: "shop", app: "web", target }));
  const long = deploymentName({ owner: "o", repo: "r".repeat(200), app: "Ä pp!", target });
  assert.ok(long.length <= 63 && parseDeployHost(`${long}.localhost`, "localhost").kind === "deployment", long);
});

test("the 404 page shows only the parsed name, escaped", () => {
  const page = unknownDeploymentPage("pr-1", "localhost");
  assert.match(page, /<code>pr-1\.localhost<\/code>/);
  assert.doesNotMatch(unknownDeploymentPage(null, "localhost"), /<code>/);
});
