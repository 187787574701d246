import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { releaseExitCode, releaseScript, RELEASE_MARKER } from "../../../src/deploy/microvm/release-script.ts";
import type { AppRuntime } from "../../../src/deploy/microvm/run-script.ts";

const NONCE = "a".repeat(48);
const rt: AppRuntime = { args: ["/app/server"], env: ["PATH=/usr/bin:/bin", "GREETING=image"], cwd: "/", uid: 0, gid: 0 };

/** Runs a release script on this host, with our busybox and a temp dir in place of the guest's. */
async function runHere(script: string): Promise<{ stdout: string; status: number | null }> {
  const dir = await mkdtemp(join(tmpdir(), "ms-release-"));
  try {
    await mkdir(join(dir, "config"));
    await mkdir(join(dir, "ports"));
    await writeFile(join(dir, "config", "nonce"), `${NONCE}\n`);
    const here = script.replaceAll("/.microship/busybox", "/bin/busybox").replaceAll("/config", join(dir, "config")).replaceAll("/sys/class/virtio-ports", join(dir, "ports"));
    // In a PID namespace of its own, as in the release VM: start-stop-daemon refuses to start
    // /bin/sh while it sees another /bin/sh running, and this host runs other tests' shells.
    const alone = spawnSync("unshare", ["--pid", "--fork", "--mount-proc", "true"]).status === 0;
    const argv = ["/bin/busybox", "sh", "-c", here];
    const r = alone ? spawnSync("unshare", ["--pid", "--fork", "--mount-proc", ...argv], { encoding: "utf8", cwd: dir }) : spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8", cwd: dir });
    return { stdout: r.stdout, status: r.status };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test("the release script runs the command with /bin/sh -c, the app's env and $PORT, and ends with the marker and its exit code", async () => {
  const s = releaseScript({ ...rt, cwd: "/tmp" }, { TOKEN: "tok-value", GREETING: "deploy" }, 8080, "echo \"$GREETING $TOKEN $PORT $(pwd)\"; exit 3");
  const r = await runHere(s);
  const lines = r.stdout.split("\n");
  assert.equal(lines[0], "deploy tok-value 8080 /tmp");
  assert.equal(lines.at(-2), `${RELEASE_MARKER} ${NONCE} 3`, "the marker is its own line, after a newline");
  assert.equal(r.status, 0, "the wrapper itself ends well: the code is in the marker");
});

test("the command is one word to the guest's shell, whatever it holds; it never sees the nonce", async () => {
  const command = "echo \"it's [$NONCE] [$CODE]\"; echo '$(not run)' `echo ran`\necho two'; echo pwned; '";
  const r = await runHere(releaseScript(rt, {}, 3000, command));
  assert.equal(r.stdout, `it's [] []\n$(not run) ran\ntwo; echo pwned; \n\n${RELEASE_MARKER} ${NONCE} 0\n`);
  assert.doesNotMatch(releaseScript(rt, {}, 3000, command), new RegExp(NONCE), "the nonce is not in the script");
});

test("a non-root image runs the command as its uid:gid; an output left open still gets the marker on a line of its own", async () => {
  const r = await runHere(releaseScript({ ...rt, uid: 65534, gid: 65534 }, {}, 3000, "printf 'uid=%s' \"$(id -u)\""));
  assert.equal(r.stdout, `uid=65534\n${RELEASE_MARKER} ${NONCE} 0\n`);
});

test("only the exact marker line of this run's nonce gives an exit code", () => {
  assert.equal(releaseExitCode(`${RELEASE_MARKER} ${NONCE} 0`, NONCE), 0);
  assert.equal(releaseExitCode(`${RELEASE_MARKER} ${NONCE} 127`, NONCE), 127);
  for (const line of [
    `${RELEASE_MARKER} ${"b".repeat(48)} 0`, `${RELEASE_MARKER}  0`, `${RELEASE_MARKER} ${NONCE} 0 `, `${RELEASE_MARKER} ${NONCE} -1`,
    `x ${RELEASE_MARKER} ${NONCE} 0`, `${RELEASE_MARKER} ${NONCE} 0000`, `${RELEASE_MARKER} ${NONCE}`, `${RELEASE_MARKER} ${NONCE} ${"9".repeat(100_000)}`,
  ]) assert.equal(releaseExitCode(line, NONCE), null, line.slice(0, 80));
  assert.equal(releaseExitCode(`${RELEASE_MARKER}  0`, ""), null, "an empty nonce matches nothing");
});
