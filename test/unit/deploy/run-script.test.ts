import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, rm, symlink, mkdir, readFile, writeFile, lstat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runScript, type AppRuntime } from "../../../src/deploy/microvm/run-script.ts";
import { ensureAccount, safeDir, writeNoFollow } from "../../../src/deploy/microvm/safe-root-paths.ts";

const rt: AppRuntime = { args: ["/bin/sh", "-c", "echo \"$GREETING\" $PORT"], env: ["PATH=/usr/bin:/bin", "GREETING=image"], cwd: "/app", uid: 0, gid: 0 };

test("the run script runs the image's command with its env, the deploy's env and $PORT on top", () => {
  const s = runScript(rt, { GREETING: "it's $(not run) `x`", PORT: "1" }, 8080);
  // Run the script's env/exec line on the host, with our busybox in place of the guest's.
  const line = s.split("\n")[1]!.replaceAll("/.microship/busybox", "/bin/busybox");
  const out = execFileSync("/bin/sh", ["-c", line], { encoding: "utf8" });
  assert.equal(out, "it's $(not run) `x` 8080\n");
  assert.match(s, /^cd '\/app' /);
  assert.match(s, /'HTTP_PROXY=http:\/\/10\.0\.2\.101:3128'/);
});

test("a non-root image drops to its uid:gid; odd env keys are left out", () => {
  const s = runScript({ ...rt, uid: 1000, gid: 1001 }, { "BAD KEY": "x", "A;rm": "y", GOOD: "z" }, 3000);
  assert.match(s, /start-stop-daemon -S -c 1000:1001 -x '\/bin\/sh' -- '-c'/);
  assert.doesNotMatch(s, /BAD KEY|A;rm/);
  assert.match(s, /'GOOD=z'/);
  assert.throws(() => runScript({ ...rt, args: [] }, {}, 3000), /no command/);
});

test("writing into an image root never follows its symlinks out of it", async () => {
  const dir = await mkdtemp(join(tmpdir(), "ms-saferoot-"));
  try {
    const root = join(dir, "rootfs");
    const outside = join(dir, "outside");
    await mkdir(join(root, "usr", "local"), { recursive: true });
    await mkdir(outside);
    await symlink(outside, join(root, "usr", "local", "bin"));
    const bin = await safeDir(root, ["usr", "local", "bin"]);
    assert.ok((await lstat(bin)).isDirectory());
    await mkdir(join(root, "etc"));
    await symlink(join(outside, "target"), join(root, "etc", "evil"));
    await writeNoFollow(join(root, "etc", "evil"), "x", 0o644);
    await assert.rejects(readFile(join(outside, "target")), "nothing written outside");
    await symlink(join(outside, "passwd"), join(root, "etc", "passwd"));
    await writeFile(join(outside, "passwd"), "root:x:0:0::/root:/bin/sh\n");
    await ensureAccount(join(root, "etc"), "passwd", 1000, "app:x:1000:1000::/:/bin/false");
    assert.equal(await readFile(join(outside, "passwd"), "utf8"), "root:x:0:0::/root:/bin/sh\n", "a symlinked passwd is left alone");
    await ensureAccount(join(root, "etc"), "group", 1000, "app:x:1000:");
    await ensureAccount(join(root, "etc"), "group", 1000, "app:x:1000:");
    assert.equal(await readFile(join(root, "etc", "group"), "utf8"), "app:x:1000:\n", "added once");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
