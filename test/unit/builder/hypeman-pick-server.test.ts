import { test } from "node:test";
import assert from "node:assert/strict";
import { BUILD_NEED, freeRoom, hasRoom, lessPlaced, pickServer, type Candidate } from "../../../src/builder/hypeman/pick-server.ts";
import { neverReached, serverDown, serverFault } from "../../../src/builder/hypeman/server-fault.ts";

const GiB = 1024 ** 3;
const status = (available: number, limit: number) => ({ available, effective_limit: limit, allocated: limit - available, capacity: limit, oversub_ratio: 1, type: "x" });
const room = (cpu: number, memGiB: number, cpuLimit = 16, memLimitGiB = 32): Candidate["free"] => freeRoom({ cpu: status(cpu, cpuLimit), memory: status(memGiB * GiB, memLimitGiB * GiB) });
const server = (url: string, free: Candidate["free"]): Candidate => ({ url, free });

test("free room is the scarcer of CPU and memory, as a share of the effective limit", () => {
  const r = room(8, 8);
  assert.equal(r!.cpu, 8);
  assert.equal(r!.share, 0.25, "memory (8 of 32) is scarcer than CPU (8 of 16)");
  assert.equal(freeRoom({ cpu: status(4, 0), memory: status(GiB, 0) }).share, 0, "no limit: no share");
  assert.deepEqual(freeRoom({} as never), { cpu: 0, memoryBytes: 0, share: 0 }, "a reading without fields has no room");
  assert.equal(freeRoom({ cpu: status(-3, 4), memory: status(Number.NaN, 4) }).cpu, 0, "negative or garbage counts as none");
});

test("builds placed since the reading are taken off it", () => {
  const r = room(8, 8)!;
  const less = lessPlaced(r, 2);
  assert.equal(less.cpu, 8 - 2 * BUILD_NEED.cpu);
  assert.equal(less.memoryBytes, 8 * GiB - 2 * BUILD_NEED.memoryBytes);
  assert.ok(less.share < r.share);
  assert.equal(lessPlaced(r, 100).cpu, 0, "never below zero");
  assert.equal(hasRoom(lessPlaced(r, 4)), false);
  assert.equal(hasRoom(lessPlaced(r, 3)), true);
});

test("the freest server takes a build of a new scope; ties go to the first listed", () => {
  const a = server("a", room(4, 8));
  const b = server("b", room(12, 24));
  assert.equal(pickServer([a, b], null)!.url, "b");
  assert.equal(pickServer([b, a], null)!.url, "b");
  assert.equal(pickServer([server("x", room(4, 4)), server("y", room(4, 4))], null)!.url, "x");
  assert.equal(pickServer([], null), null);
});

test("a scope goes back to the server that last built it while that one has room", () => {
  const a = server("a", room(4, 8));
  const b = server("b", room(12, 24));
  assert.equal(pickServer([a, b], "a")!.url, "a", "a has room for one more build, and the scope's cache");
  const full = server("a", room(1, 8));
  assert.equal(pickServer([full, b], "a")!.url, "b", "no CPU left on a: the freest");
  const noMemory = server("a", room(8, 1));
  assert.equal(pickServer([noMemory, b], "a")!.url, "b", "no memory left on a: the freest");
  assert.equal(pickServer([b], "a")!.url, "b", "the scope's server is out of the pool");
});

test("a server with room beats one without, whatever the shares; a full pool still places the build", () => {
  const tiny = server("tiny", room(2, 2, 2, 2));
  const big = server("big", room(1, 30));
  assert.equal(pickServer([big, tiny], null)!.url, "tiny");
  const full1 = server("f1", room(1, 1));
  const full2 = server("f2", room(0, 0));
  assert.equal(pickServer([full2, full1], null)!.url, "f1", "the freest of the full ones: Hypeman queues it");
  const silent = server("old", null);
  assert.equal(pickServer([full1, silent], null)!.url, "old", "a server that can't say is taken as having room");
  assert.equal(pickServer([silent, big, tiny], null)!.url, "tiny", "but one that says it has room comes first");
});

test("only a connection that was never made lets a create go to another server", () => {
  const refused = Object.assign(new Error("Connection error."), { cause: Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNREFUSED" } }) });
  assert.equal(neverReached(refused), true);
  assert.equal(neverReached(Object.assign(new Error("x"), { cause: new AggregateError([{ code: "ECONNREFUSED" }, { code: "EHOSTUNREACH" }]) })), true);
  assert.equal(neverReached(Object.assign(new Error("x"), { cause: new AggregateError([{ code: "ECONNREFUSED" }, { code: "ECONNRESET" }]) })), false);
  assert.equal(neverReached(Object.assign(new Error("x"), { cause: { code: "ECONNRESET" } })), false, "a reset may come after the server took the build");
  assert.equal(neverReached(Object.assign(new Error("Request timed out."), { name: "APIConnectionTimeoutError" })), false);
  assert.equal(neverReached({ status: 503 }), false, "an answer means the request arrived");
  let deep: Record<string, unknown> = { code: "ECONNREFUSED" };
  for (let i = 0; i < 10; i++) deep = { cause: deep };
  assert.equal(neverReached(deep), false, "the cause chain is followed only so deep");
});

test("a server's fault is told briefly, without a URL's credentials or control characters", () => {
  assert.equal(serverDown({ status: 502 }), true);
  assert.equal(serverDown({ status: 422 }), false);
  assert.equal(serverDown(new Error("socket hang up")), true);
  assert.equal(serverFault({ status: 503, error: { message: "draining" } }), "answered 503: draining");
  assert.equal(serverFault(Object.assign(new Error("x"), { cause: { code: "ECONNREFUSED" } })), "can't be reached (ECONNREFUSED)");
  const leaky = serverFault(new Error("fetch https://user:hunter2-token@h.test/builds failed\x1b[31m" + "y".repeat(1000)));
  assert.ok(!leaky.includes("hunter2-token") && !leaky.includes("\x1b"), leaky);
  assert.ok(leaky.length <= 200);
});
