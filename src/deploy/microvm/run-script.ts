import { GUEST_PROXY_ADDRESS, GUEST_PROXY_PORT } from "../../builder/microvm/guest-network.ts";

/** What the image's config says to run (umoci's runtime config: Entrypoint+Cmd, Env, WorkingDir, User). */
export interface AppRuntime {
  args: string[];
  /** KEY=value, as the image sets them. */
  env: string[];
  cwd: string;
  uid: number;
  gid: number;
}

/** The static busybox put into every app root: the guest's init runs its agent with it. */
export const GUEST_BUSYBOX = "/.microship/busybox";
/** What the builder VM's init runs, chrooted into the root disk (images/microvm/init.sh). */
export const GUEST_AGENT = ["usr", "local", "bin", "microship-agent"];
export const AGENT_SCRIPT = `#!${GUEST_BUSYBOX} sh\n# microship: the deploy VM's entry; the run script is on the config disk.\nexec ${GUEST_BUSYBOX} sh /config/run.sh\n`;

const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]{0,255}$/;
/** One word for the guest's shell, whatever `s` holds (NULs can't be passed and are dropped). */
export const quote = (s: string) => `'${s.replaceAll("\0", "").replaceAll("'", "'\\''")}'`;

/**
 * /config/run.sh: the image's command with exactly its env, the egress proxy's (the VM reaches
 * nothing else), the deploy's env and $PORT on top; dropped to the image's user by busybox.
 */
export function runScript(rt: AppRuntime, deployEnv: Record<string, string>, port: number): string {
  if (rt.args.length === 0) throw new Error("the image has no command (neither ENTRYPOINT nor CMD)");
  return [
    `cd ${quote(rt.cwd || "/")} 2>/dev/null || cd /`,
    `exec ${appCommand(rt, deployEnv, port, rt.args)}`,
    "",
  ].join("\n");
}

/** `argv` as the app runs: `env -i` with the app's env, then (for a non-root image) the drop to its uid:gid. */
export function appCommand(rt: AppRuntime, deployEnv: Record<string, string>, port: number, argv: string[]): string {
  const asUser = rt.uid === 0 ? [] : [GUEST_BUSYBOX, "start-stop-daemon", "-S", "-c", `${rt.uid}:${rt.gid}`, "-x", quote(argv[0]!), "--"];
  const command = rt.uid === 0 ? argv.map(quote) : argv.slice(1).map(quote);
  return `${GUEST_BUSYBOX} env -i ${appEnv(rt, deployEnv, port).join(" ")} ${[...asUser, ...command].join(" ")}`;
}

function appEnv(rt: AppRuntime, deployEnv: Record<string, string>, port: number): string[] {
  const proxy = `http://${GUEST_PROXY_ADDRESS}:${GUEST_PROXY_PORT}`;
  const env = new Map<string, string>();
  for (const kv of rt.env) {
    const eq = kv.indexOf("=");
    if (eq > 0) env.set(kv.slice(0, eq), kv.slice(eq + 1));
  }
  for (const k of ["http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"]) env.set(k, proxy);
  env.set("no_proxy", "localhost,127.0.0.1").set("NO_PROXY", "localhost,127.0.0.1");
  // Node's fetch ignores the proxy variables unless told (Node 24+).
  env.set("NODE_USE_ENV_PROXY", "1");
  if (!env.has("PATH")) env.set("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  for (const [k, v] of Object.entries(deployEnv)) env.set(k, v);
  env.set("PORT", String(port));
  return [...env].filter(([k]) => ENV_KEY.test(k)).map(([k, v]) => quote(`${k}=${v}`));
}
