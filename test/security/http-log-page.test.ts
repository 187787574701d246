import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { request, type ClientRequest } from "node:http";
import { startHarness, type Harness } from "../helpers/microship-harness.ts";
import { line, linksOf, pathOf, seedBuild } from "./http-seed.ts";

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h?.stop();
});

const get = (path: string, init?: RequestInit) => fetch(`${h.app.url}${path}`, { redirect: "manual", ...init });

function assertSecurityHeaders(res: Response, what: string): void {
  const csp = res.headers.get("content-security-policy") ?? "";
  assert.match(csp, /(^|; )default-src 'none'(;|$)/, `${what}: CSP default-src`);
  assert.match(csp, /(^|; )frame-ancestors 'none'(;|$)/, `${what}: CSP frame-ancestors`);
  assert.doesNotMatch(csp, /script-src|unsafe-eval/, `${what}: CSP allows no script`);
  assert.equal(res.headers.get("x-content-type-options"), "nosniff", `${what}: nosniff`);
  assert.equal(res.headers.get("referrer-policy"), "no-referrer", `${what}: referrer policy`);
}

const HOSTILE = [
  "<script>alert(document.cookie)</script>",
  '"><img src=x onerror=alert(1)>',
  "\x1b[31mred\x1b[0m \x1b]0;title\x07 \x1b[2J</pre><script src=//evil.test/x.js></script>",
  "</span></pre><style>body{display:none}</style>",
];

test("log lines with <script>, an attribute breakout with onerror, ANSI escapes and a </pre> breakout are escaped on the page", async () => {
  const id = await seedBuild(h.app.store, [...HOSTILE.map((t) => line(t)), line("tail line", "stderr")]);
  const res = await get(pathOf(h.app.links.detailsUrl(id)));
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^text\/html; charset=utf-8/);
  assertSecurityHeaders(res, "log page");
  const html = await res.text();
  const log = html.slice(html.indexOf('<pre id="log">'));
  for (const bad of ["<script", "<img", "<style", "onerror=alert(1)>", "\x1b", "\x07"]) assert.ok(!log.includes(bad), `the log part holds ${JSON.stringify(bad)}`);
  assert.equal(html.match(/<script/gi), null, "the page has no script element at all");
  assert.ok(log.includes("&#60;script&#62;alert(document.cookie)&#60;/script&#62;"), "the script text is shown, escaped");
  assert.ok(log.includes("&#34;&#62;&#60;img src=x onerror=alert(1)&#62;"));
  assert.ok(log.includes("red "), "ANSI colour codes are dropped, their text kept");
  assert.ok(log.endsWith("tail line</span>\n</pre>\n</body></html>\n"), "the page ends after the last line");
});

test("the CSP allows exactly the page's own style, by hash, and no inline style that a log could add", async () => {
  const id = await seedBuild(h.app.store, [line("hello")]);
  const res = await get(pathOf(h.app.links.detailsUrl(id)));
  const html = await res.text();
  const style = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1];
  assert.ok(style, "the page has its style element");
  const hash = createHash("sha256").update(style).digest("base64");
  assert.match(res.headers.get("content-security-policy") ?? "", new RegExp(`style-src 'sha256-${hash.replace(/[+/]/g, "\\$&")}'`));
  assert.doesNotMatch(res.headers.get("content-security-policy") ?? "", /unsafe-inline/);
});

test("log.txt is plain text with nosniff, every line as printed, and the same headers", async () => {
  const id = await seedBuild(h.app.store, HOSTILE.map((t) => line(t)));
  const url = pathOf(h.app.links.detailsUrl(id)).replace("?", "/log.txt?");
  const res = await get(url);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/plain; charset=utf-8");
  assertSecurityHeaders(res, "log.txt");
  assert.equal(await res.text(), HOSTILE.map((t) => `${t}\n`).join(""));
});

test("errors and unknown routes carry the same headers: 404s, /healthz, a webhook's answer", async () => {
  for (const path of ["/nope", "/builds/x?exp=1&token=y", "/healthz", "/readyz"]) assertSecurityHeaders(await get(path), path);
  assertSecurityHeaders(await get("/api/github/webhooks", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }), "webhook 400");
});

test("traversal in the log page URL reads nothing and answers like any unknown build", async () => {
  const notFound = await get("/builds/00000000-0000-0000-0000-000000000000?exp=9999999999&token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
  const baseline = [notFound.status, await notFound.text()];
  for (const path of [
    "/builds/..%2f..%2fetc%2fpasswd?token=",
    "/builds/..%2f..%2fetc%2fpasswd/log.txt?exp=9999999999&token=",
    "/builds/%2e%2e%2f%2e%2e%2fetc%2fpasswd?exp=1&token=x",
    "/builds/..%5c..%5cmicroship.sqlite?token=",
    "/builds/%00?token=",
  ]) {
    const res = await get(path);
    const body = await res.text();
    assert.deepEqual([res.status, body], baseline, path);
    assert.ok(!body.includes("root:"), path);
    assertSecurityHeaders(res, path);
  }
});

test("the page shows the tail of a long log and links to the whole log.txt, which has it all", async () => {
  // 12 MiB of log: over the page's 8 MiB.
  const lines = Array.from({ length: 12 * 1024 }, (_, i) => line(`${String(i).padStart(6, "0")} ${"y".repeat(1000)}`));
  const id = await seedBuild(h.app.store, lines);
  const url = pathOf(h.app.links.detailsUrl(id));
  const html = await (await get(url)).text();
  assert.match(html, /Showing the last [\d.]+ MiB of about 12\.\d MiB/);
  assert.ok(!html.includes("000000 yyy"), "the first line is beyond the page's share");
  assert.ok(html.includes(`${String(lines.length - 1).padStart(6, "0")} yyy`), "the last line is there");
  assert.ok(html.length < 9.5 * 1024 * 1024, `the page is ${html.length} characters`);
  const logTxt = /href="([^"]*log\.txt[^"]*)"/.exec(html)?.[1]?.replaceAll("&#38;", "&");
  assert.ok(logTxt, "the page links to log.txt");
  const text = await (await get(logTxt)).text();
  assert.equal(text.split("\n").length - 1, lines.length);
  assert.ok(text.startsWith("000000 yyy"));
});

test("slow readers holding log streams open cannot pile up: past the limit, another download waits with 503", async (t) => {
  const small = await startHarness({ maxLogStreams: 2 });
  t.after(() => small.stop());
  const id = await seedBuild(small.app.store, Array.from({ length: 10_000 }, (_, i) => line(`${i} ${"w".repeat(4000)}`)));
  const url = `${small.app.url}${pathOf(small.app.links.detailsUrl(id)).replace("?", "/log.txt?")}`;
  // Readers that take the answer's head and then stop reading: the 40 MB stays unsent.
  const stalled = await Promise.all([0, 1].map(() => new Promise<ClientRequest>((resolve) => {
    const req = request(url, (res) => {
      res.pause();
      resolve(req);
    });
    req.on("error", () => undefined);
    req.end();
  })));
  t.after(() => stalled.forEach((r) => r.destroy()));
  const refused = await fetch(url);
  assert.equal(refused.status, 503);
  assert.equal(refused.headers.get("retry-after"), "10");
  assert.match(await refused.text(), /Too many logs are being read at once/);
  stalled.forEach((r) => r.destroy());
  let status = 0;
  for (let i = 0; i < 50 && status !== 200; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const res = await fetch(url);
    status = res.status;
    await res.body?.cancel();
  }
  assert.equal(status, 200, "a download goes through once the stalled readers went away");
});
