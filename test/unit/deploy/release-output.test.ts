import { test } from "node:test";
import assert from "node:assert/strict";
import { ReleaseOutput } from "../../../src/deploy/microvm/release-output.ts";
import { releaseFailure } from "../../../src/deploy/microvm/release-failure.ts";
import { RELEASE_MARKER } from "../../../src/deploy/microvm/release-script.ts";

const NONCE = "f".repeat(48);
const output = (env: Record<string, string> = {}) => {
  const log: string[] = [];
  return { log, out: new ReleaseOutput({ nonce: NONCE, env, log: (l) => log.push(l) }) };
};

test("the marker of this run gives the exit code and is not shown; a forged one is plain output; lines after the marker are dropped", () => {
  const { log, out } = output();
  out.line("microvm: booted in 3.2s");
  out.line("migrating");
  out.line(`${RELEASE_MARKER} ${"0".repeat(48)} 0`);
  out.line("");
  out.line(`${RELEASE_MARKER} ${NONCE} 3`);
  out.line("a process left behind");
  out.line(`${RELEASE_MARKER} ${NONCE} 0`);
  out.flush();
  assert.equal(out.exitCode, 3);
  assert.deepEqual(log, ["release | migrating", `release | ${RELEASE_MARKER} ${"0".repeat(48)} 0`]);
});

test("env values are masked (longest first, PORT and short values left), lines are cut", () => {
  const { log, out } = output({ TOKEN: "s3cr3t-token", PART: "s3cr3t", PORT: "3000", N: "42", EMPTY: "" });
  out.line("token=s3cr3t-token part=s3cr3t port=3000 n=42");
  out.line("x".repeat(10_000));
  assert.equal(log[0], "release | token=*** part=*** port=3000 n=42");
  assert.equal(log[1], `release | ${"x".repeat(2_000)} …`);
  assert.match(out.lastLines(), /^token=\*\*\* part=\*\*\*/);
});

test("a long output streams its first lines, then keeps only its tail, and says how much it left out", () => {
  const { log, out } = output();
  for (let i = 1; i <= 10_000; i++) out.line(`line ${i}`);
  assert.equal(log.length, 150, "the first lines are streamed as they come");
  out.flush();
  assert.equal(log.length, 150 + 1 + 50);
  assert.equal(log[149], "release | line 150");
  assert.equal(log[150], "release | … 9800 lines left out …");
  assert.equal(log.at(-1), "release | line 10000");
  assert.equal(out.lastLines().split("\n").length, 15);
  assert.equal(out.lastLines().split("\n").at(-1), "line 10000");
});

test("the release's errors say what the Hypeman deployer says: the code, the time limit, a VM that ended without a code", () => {
  assert.equal(releaseFailure("true", 0, { killedBy: null }, 600_000, ""), null);
  const failed = releaseFailure("bin/migrate", 3, { killedBy: null }, 600_000, "boom\nno database");
  assert.equal(failed?.kind, "user");
  assert.equal(failed?.title, "Release failed");
  assert.equal(failed?.message, "The release command `bin/migrate` failed with exit code 3. The previous version keeps serving.\nLast output of the release command:\nboom\nno database");
  assert.match(failed?.hint ?? "", /\/bin\/sh -c in the new image/);
  assert.match(releaseFailure("sleep 1000", null, { killedBy: "deadline" }, 90_000, "")!.message, /^The release command `sleep 1000` did not finish in 90 s\. The previous version keeps serving\.$/);
  assert.match(releaseFailure("x", null, { killedBy: null }, 1, "")!.message, /failed with its microVM stopping before the command ended/);
  assert.match(releaseFailure("x", null, { killedBy: "boot" }, 1, "")!.message, /failed with its microVM not booting in time/);
});
