import { test } from "node:test";
import assert from "node:assert/strict";
import { EgressPolicy, blockReason, parseEgressAllow } from "../../../src/builder/microvm/egress-policy.ts";
import { isMicroshipError } from "../../../src/core/errors.ts";

test("the host's loopback, link-local, reserved and private addresses are refused, in every spelling", () => {
  const p = new EgressPolicy();
  const cases: [string, string][] = [
    ["127.0.0.1", "loopback"], ["127.8.9.10", "loopback"], ["::1", "loopback"], ["::ffff:127.0.0.1", "loopback"], ["::ffff:7f00:1", "loopback"],
    ["169.254.169.254", "link-local"], ["::ffff:169.254.169.254", "link-local"], ["fe80::1", "link-local"],
    ["0.0.0.0", "reserved"], ["::", "reserved"], ["224.0.0.251", "reserved"], ["255.255.255.255", "reserved"], ["ff02::1", "reserved"],
    ["10.1.2.3", "private"], ["172.16.0.1", "private"], ["172.31.255.255", "private"], ["192.168.1.1", "private"], ["100.64.0.1", "private"], ["fd00::1", "private"],
    ["64:ff9b::a01:203", "private"], ["64:ff9b::127.0.0.1", "loopback"],
  ];
  for (const [address, reason] of cases) assert.deepEqual(p.verdict(address, 80), { allowed: false, reason }, address);
});

test("public addresses are let through, on any port", () => {
  const p = new EgressPolicy();
  for (const a of ["151.101.2.132", "104.16.0.1", "172.32.0.1", "2a04:4e42::644", "64:ff9b::8.8.8.8"]) assert.deepEqual(p.verdict(a, 443), { allowed: true }, a);
});

test("MICROSHIP_EGRESS_ALLOW opens the named private ranges and endpoints, and nothing else", () => {
  const p = new EgressPolicy(parseEgressAllow(" 10.20.0.0/16, 192.168.1.5:3142,127.0.0.1:3142, fd00:1::/48 "));
  assert.deepEqual(p.verdict("10.20.3.4", 80), { allowed: true });
  assert.deepEqual(p.verdict("10.21.3.4", 80), { allowed: false, reason: "private" });
  assert.deepEqual(p.verdict("192.168.1.5", 3142), { allowed: true });
  assert.deepEqual(p.verdict("192.168.1.5", 22), { allowed: false, reason: "private" });
  assert.deepEqual(p.verdict("127.0.0.1", 3142), { allowed: true }, "an exact loopback endpoint is the operator's choice");
  assert.deepEqual(p.verdict("::ffff:127.0.0.1", 3142), { allowed: true });
  assert.deepEqual(p.verdict("127.0.0.1", 3000), { allowed: false, reason: "loopback" });
  assert.deepEqual(p.verdict("fd00:1::9", 443), { allowed: true });
  assert.deepEqual(p.verdict("169.254.169.254", 80), { allowed: false, reason: "link-local" });
});

test("a range never opens loopback, and the allow list refuses what can never be reached, names, and nonsense", () => {
  assert.deepEqual(new EgressPolicy(parseEgressAllow("127.0.0.0/8")).verdict("127.0.0.1", 80), { allowed: false, reason: "loopback" });
  for (const bad of ["169.254.169.254:80", "169.254.0.0/16", "mirror.internal:8080", "10.0.0.0/99", "0.0.0.0/0", "::/0", "10.0.0.1", "300.1.1.1:80", "[fe80::1]:80", "10.0.0.1:0"]) {
    const allow = () => {
      const a = parseEgressAllow(bad);
      // A range that parses must still not open link-local.
      if (new EgressPolicy(a).verdict("169.254.169.254", 80).allowed) return;
      throw new Error("refused at verdict");
    };
    assert.throws(allow, (e) => (isMicroshipError(e) && /MICROSHIP_EGRESS_ALLOW/.test(e.message)) || (e as Error).message === "refused at verdict", bad);
  }
});

test("a name is never an address: blockReason refuses what isn't an IP literal", () => {
  assert.equal(blockReason("localhost"), "reserved");
  assert.equal(blockReason("8.8.8.8"), null);
});
