import { appCommand, GUEST_BUSYBOX, quote, type AppRuntime } from "./run-script.ts";

/** The first word of the line that reports the release command's exit code (with the run's nonce). */
export const RELEASE_MARKER = "microship-release-exit";
/** Where the release VM's run script reads its nonce; the disk is gone before the command runs. */
export const NONCE_FILE = "nonce";

const B = GUEST_BUSYBOX;

/**
 * /config/run.sh of a release VM. It runs as root: it reads the run's nonce, lets go of the
 * config disk (so the command can't read the nonce there), sends everything to the guest's
 * log port (virtio: flow-controlled, nothing dropped), runs `/bin/sh -c command` in the image's
 * dir as the image's user with the app's env and $PORT, and then writes the marker line with
 * the nonce and the exit code. The command's output can't fake that line: it never sees the
 * nonce. The leading newline ends a last line the command left open.
 */
export function releaseScript(rt: AppRuntime, deployEnv: Record<string, string>, port: number, command: string): string {
  return [
    `read -r NONCE < /config/${NONCE_FILE}`,
    `${B} umount -l /config 2>/dev/null`,
    `for p in /sys/class/virtio-ports/*; do`,
    `  [ "$(${B} cat "$p/name" 2>/dev/null)" = microship.log ] && exec >"/dev/\${p##*/}" 2>&1`,
    `done`,
    `cd ${quote(rt.cwd || "/")} 2>/dev/null || cd /`,
    `if [ -x /bin/sh ]; then`,
    `  ${appCommand(rt, deployEnv, port, ["/bin/sh", "-c", command])} </dev/null`,
    `  CODE=$?`,
    `else`,
    `  echo "microship: the image has no /bin/sh to run the release command with"`,
    `  CODE=127`,
    `fi`,
    `printf '\\n%s %s %s\\n' ${RELEASE_MARKER} "$NONCE" "$CODE"`,
    `exit 0`,
    "",
  ].join("\n");
}

/** The exit code a marker line reports, if `line` is exactly the marker of this run's nonce. */
export function releaseExitCode(line: string, nonce: string): number | null {
  const prefix = `${RELEASE_MARKER} ${nonce} `;
  if (nonce.length < 16 || !line.startsWith(prefix)) return null;
  const code = line.slice(prefix.length);
  return /^[0-9]{1,3}$/.test(code) ? Number(code) : null;
}
