import { test } from "node:test";
import assert from "node:assert/strict";
import { WriteLane } from "../../../src/github/write-lane.ts";

function gate(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

test("a write that is due now goes ahead of every waiting log tail, one write at a time", async () => {
  const lane = new WriteLane();
  const order: string[] = [];
  let inFlight = 0;
  let most = 0;
  const first = gate();
  const write = (name: string, wait?: Promise<void>) => async () => {
    inFlight++;
    most = Math.max(most, inFlight);
    order.push(name);
    await wait;
    inFlight--;
    return name;
  };
  const done = [
    lane.run("background", write("tail 1", first.promise)),
    lane.run("background", write("tail 2")),
    lane.run("background", write("tail 3")),
    lane.run("now", write("create")),
    lane.run("now", write("conclude")),
  ];
  assert.equal(lane.pending, 4, "only the first write is handed on while it runs");
  first.open();
  assert.deepEqual(await Promise.all(done), ["tail 1", "tail 2", "tail 3", "create", "conclude"]);
  assert.deepEqual(order, ["tail 1", "create", "conclude", "tail 2", "tail 3"]);
  assert.equal(most, 1);
});

test("a failed write rejects its caller and the lane goes on", async () => {
  const lane = new WriteLane();
  const failed = lane.run("now", async () => {
    throw new Error("GitHub said 422");
  });
  const after = lane.run("background", async () => "sent");
  await assert.rejects(failed, /422/);
  assert.equal(await after, "sent");
  assert.equal(lane.pending, 0);
});
