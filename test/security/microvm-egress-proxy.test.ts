import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer, connect, type Server } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EgressPolicy, parseEgressAllow } from "../../src/builder/microvm/egress-policy.ts";
import { startEgressProxy, type EgressProxy, type Lookup } from "../../src/builder/microvm/egress-proxy.ts";

// The builder VM's egress proxy, attacked as a RUN step would: every way of naming the host's own
// loopback, the metadata service or a private address must be refused before any connection is
// made, and the marker service on 127.0.0.1 must never see one.

const MARKER = "host-loopback-service-secret";
let dir: string;
let service: Server;
let servicePort: number;
let hits = 0;

// A resolver the test controls: "rebind.example" answers the host's loopback, as a hostile DNS would.
const names: Record<string, string[]> = { "rebind.example": ["127.0.0.1"], "intranet.example": ["10.0.0.5"], "metadata.example": ["169.254.169.254"], "mixed.example": ["10.9.9.9", "127.0.0.1"] };
const fakeLookup: Lookup = async (host) => {
  const a = names[host];
  if (!a) throw new Error("ENOTFOUND");
  return a.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
};

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "ms-egress-"));
  service = createServer((s) => {
    hits++;
    s.end(`HTTP/1.0 200 OK\r\n\r\n${MARKER}\n`);
  });
  await new Promise<void>((ok) => service.listen(0, "127.0.0.1", ok));
  servicePort = (service.address() as { port: number }).port;
});

after(() => {
  service.close();
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
async function proxy(allow = "", lookup?: Lookup): Promise<EgressProxy & { refused: string[] }> {
  const refused: string[] = [];
  const p = await startEgressProxy({
    listen: join(dir, `p${n++}.sock`), policy: new EgressPolicy(parseEgressAllow(allow)), lookup, connectTimeoutMs: 2_000,
    onRefused: (t, why) => refused.push(`${t}: ${why}`),
  });
  return Object.assign(p, { refused });
}

/** Sends one raw request to the proxy and returns everything it answers until it closes. */
function raw(p: EgressProxy, request: string, thenSend = ""): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(p.address);
    let out = "";
    s.setTimeout(10_000, () => s.destroy(new Error(`no answer: ${out}`)));
    s.on("data", (c) => {
      out += c.toString();
      if (thenSend && out.startsWith("HTTP/1.1 200")) {
        s.write(thenSend);
        thenSend = "";
      }
    });
    s.on("end", () => resolve(out));
    s.on("close", () => resolve(out));
    s.on("error", reject);
    s.write(request);
  });
}

const connectTo = (p: EgressProxy, target: string) => raw(p, `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`, "GET / HTTP/1.0\r\n\r\n");
const getVia = (p: EgressProxy, url: string) => raw(p, `GET ${url} HTTP/1.1\r\nHost: ${new URL(url).host}\r\nConnection: close\r\n\r\n`);

describe("the egress proxy refuses the host and its networks", () => {
  const refusedTargets = () => [
    `127.0.0.1:${servicePort}`, `127.1.2.3:${servicePort}`, `[::1]:${servicePort}`, `[::ffff:127.0.0.1]:${servicePort}`, `[::ffff:7f00:1]:${servicePort}`,
    `localhost:${servicePort}`, `rebind.example:${servicePort}`, `mixed.example:${servicePort}`, "169.254.169.254:80", "metadata.example:80",
    "[fe80::1]:80", "10.1.2.3:80", "intranet.example:443", "192.168.1.1:80", "172.16.5.4:80", "100.64.0.1:80", "[fd00::1]:80", "0.0.0.0:80", "224.0.0.1:80",
  ];

  test("CONNECT to each way of naming them is a 403 that says why, and nothing is connected", async () => {
    const realNames = await proxy();
    const fakeNames = await proxy("", fakeLookup);
    try {
      for (const target of refusedTargets()) {
        const p = target.startsWith("localhost") ? realNames : fakeNames;
        const answer = await connectTo(p, target);
        assert.match(answer, /^HTTP\/1\.1 403 /, `${target}: ${answer}`);
        assert.doesNotMatch(answer, new RegExp(MARKER), target);
        assert.match(answer, /may not reach .*(loopback|link-local|private network|reserved)/, target);
      }
      assert.equal(hits, 0, "the loopback service saw a connection");
      assert.equal(realNames.refused.length + fakeNames.refused.length, refusedTargets().length);
    } finally {
      await realNames.close();
      await fakeNames.close();
    }
  });

  test("plain http:// forward requests are refused the same way", async () => {
    const p = await proxy("", fakeLookup);
    try {
      for (const url of [`http://127.0.0.1:${servicePort}/`, `http://[::1]:${servicePort}/`, `http://rebind.example:${servicePort}/`, "http://169.254.169.254/latest/meta-data/", "http://10.1.2.3/", "http://intranet.example/"]) {
        const answer = await getVia(p, url);
        assert.match(answer, /^HTTP\/1\.1 403 /, `${url}: ${answer}`);
        assert.doesNotMatch(answer, new RegExp(MARKER), url);
      }
      assert.equal(hits, 0);
    } finally {
      await p.close();
    }
  });

  test("garbage targets are refused without a lookup", async () => {
    const asked: string[] = [];
    const p = await proxy("", async (h) => (asked.push(h), []));
    try {
      for (const target of [`127.0.0.1:${servicePort}0000`, "bad host:80", "a..b:80", ":80", "x:0", `${"a".repeat(300)}:80`]) {
        assert.match(await connectTo(p, target), /^HTTP\/1\.1 (400|403|502) /, target);
      }
      assert.match(await raw(p, "GET /not-a-proxy-request HTTP/1.1\r\nHost: x\r\n\r\n"), /^HTTP\/1\.1 400 /);
      assert.match(await raw(p, "GET https://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n"), /^HTTP\/1\.1 400 /);
      assert.deepEqual(asked.filter((h) => h.includes(" ") || h.length > 253), []);
    } finally {
      await p.close();
    }
  });
});

describe("what the allow list opens, the proxy really reaches", () => {
  test("an allowed endpoint is tunnelled and forwarded, to the exact address that was checked", async () => {
    const p = await proxy(`127.0.0.1:${servicePort}`, fakeLookup);
    const before = hits;
    try {
      assert.match(await connectTo(p, `127.0.0.1:${servicePort}`), new RegExp(`^HTTP/1.1 200 Connection Established\\r\\n\\r\\nHTTP/1.0 200 OK\\r\\n\\r\\n${MARKER}`));
      assert.match(await getVia(p, `http://127.0.0.1:${servicePort}/x`), new RegExp(MARKER));
      // A name is resolved by the proxy and checked as the address it resolved to.
      assert.match(await connectTo(p, `rebind.example:${servicePort}`), new RegExp(MARKER));
      assert.equal(hits - before, 3);
      // The endpoint is exact: another port of the same address stays closed.
      assert.match(await connectTo(p, `127.0.0.1:${servicePort + 1}`), /^HTTP\/1\.1 403 /);
    } finally {
      await p.close();
    }
  });

  test("an allowed private range lets its addresses through to the connection attempt", async () => {
    const p = await proxy("10.0.0.0/24", fakeLookup);
    try {
      // 10.0.0.5 is allowed by policy; nothing listens there, so the proxy's attempt fails as a 502, not a 403.
      const answer = await connectTo(p, "intranet.example:9");
      assert.doesNotMatch(answer, /^HTTP\/1\.1 403 /, answer);
      assert.equal(p.refused.length, 0);
    } finally {
      await p.close();
    }
  });
});
