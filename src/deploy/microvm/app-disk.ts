import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import type { RegistryCredential } from "../../core/ports.ts";
import { infraError, userError } from "../../core/errors.ts";
import { needsPlainHttp, registryHost } from "../../registry/registry-host.ts";
import { withParentDeath } from "../../registry/embedded-registry.ts";
import { ext4FromDir } from "../../builder/microvm/disks.ts";
import { withDirLock } from "../../builder/microvm/dir-lock.ts";
import { AGENT_SCRIPT, GUEST_AGENT, GUEST_BUSYBOX, type AppRuntime } from "./run-script.ts";
import { ensureAccount, safeDir, writeNoFollow } from "./safe-root-paths.ts";

export interface AppDisk {
  /** ext4 of the image's root, never written: each VM boots a copy-on-write overlay of it. */
  rootDisk: string;
  runtime: AppRuntime;
}

export interface AppDiskOptions {
  /** Where disks are kept, one directory per image digest. */
  dir: string;
  imageRef: string;
  digest: string;
  auth: RegistryCredential | null;
  insecureRegistries: readonly string[];
  /** Room beyond the image for what the app writes (sparse: costs only what is written). */
  extraMiB?: number;
}

const inFlight = new Map<string, Promise<AppDisk>>();

/**
 * An image as a VM root disk, made once per digest: skopeo copies it to an OCI layout, umoci
 * unpacks it (and resolves its User to uid:gid), the deploy agent and a static busybox go in, and
 * mkfs.ext4 -d makes the disk. The builder VM's kernel and init boot it (images/microvm/init.sh).
 */
export function ensureAppDisk(o: AppDiskOptions): Promise<AppDisk> {
  const hex = o.digest.split(":").pop() ?? "";
  if (!/^[a-f0-9]{64}$/.test(hex)) return Promise.reject(new Error(`not an image digest: ${o.digest}`));
  const dest = join(o.dir, hex);
  let p = inFlight.get(dest);
  if (!p) {
    p = readyDisk(dest).then(async (d) => d ?? (await mkdir(o.dir, { recursive: true }), withDirLock(`${dest}.lock`, async () => (await readyDisk(dest)) ?? makeDisk(dest, o)))).finally(() => inFlight.delete(dest));
    inFlight.set(dest, p);
  }
  return p;
}

async function readyDisk(dest: string): Promise<AppDisk | null> {
  if (!existsSync(join(dest, "ready"))) return null;
  return { rootDisk: join(dest, "root.ext4"), runtime: JSON.parse(await readFile(join(dest, "runtime.json"), "utf8")) as AppRuntime };
}

async function makeDisk(dest: string, o: AppDiskOptions): Promise<AppDisk> {
  const tmp = `${dest}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  await mkdir(tmp, { recursive: true, mode: 0o700 });
  try {
    await pull(o, tmp);
    const bundle = join(tmp, "bundle");
    const rootless = process.getuid?.() !== 0;
    await step("umoci", ["unpack", ...(rootless ? ["--rootless"] : []), "--image", `${join(tmp, "layout")}:app`, bundle]);
    const runtime = runtimeOf(JSON.parse(await readFile(join(bundle, "config.json"), "utf8")));
    const rootfs = join(bundle, "rootfs");
    await addAgent(rootfs, runtime);
    await ext4FromDir(rootfs, join(tmp, "root.ext4"), { label: "approot", extraMiB: o.extraMiB ?? 1024 });
    await writeFile(join(tmp, "runtime.json"), JSON.stringify(runtime));
    await rm(bundle, { recursive: true, force: true });
    await rm(join(tmp, "layout"), { recursive: true, force: true });
    await rm(dest, { recursive: true, force: true });
    await rename(tmp, dest);
    await writeFile(join(dest, "ready"), `${new Date().toISOString()}\n`);
    return { rootDisk: join(dest, "root.ext4"), runtime };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** skopeo copy by digest; the registry credential goes through an auth file, never argv. */
async function pull(o: AppDiskOptions, tmp: string): Promise<void> {
  const args = ["copy", "-q"];
  if (needsPlainHttp(o.imageRef, o.insecureRegistries)) args.push("--src-tls-verify=false");
  if (o.auth) {
    const authFile = join(tmp, "auth.json");
    const auth = Buffer.from(`${o.auth.username}:${o.auth.password}`).toString("base64");
    await writeFile(authFile, JSON.stringify({ auths: { [registryHost(o.imageRef)]: { auth } } }), { mode: 0o600 });
    args.push("--authfile", authFile);
  }
  await step("skopeo", [...args, `docker://${o.imageRef}`, `oci:${join(tmp, "layout")}:app`]);
}

/** The deploy agent the builder's init runs, the busybox it runs with, and an account for the image's uid. */
async function addAgent(rootfs: string, rt: AppRuntime): Promise<void> {
  await safeDir(rootfs, [GUEST_BUSYBOX.split("/")[1]!]);
  await writeNoFollow(join(rootfs, GUEST_BUSYBOX), await readFile("/bin/busybox"), 0o755);
  const bin = await safeDir(rootfs, GUEST_AGENT.slice(0, -1));
  await writeNoFollow(join(bin, GUEST_AGENT.at(-1)!), AGENT_SCRIPT, 0o755);
  if (rt.uid === 0) return;
  const etc = await safeDir(rootfs, ["etc"]);
  await ensureAccount(etc, "passwd", rt.uid, `microship-app:x:${rt.uid}:${rt.gid}::/:/sbin/nologin`);
  await ensureAccount(etc, "group", rt.gid, `microship-app:x:${rt.gid}:`);
}

function runtimeOf(config: { process?: { args?: unknown; env?: unknown; cwd?: unknown; user?: { uid?: unknown; gid?: unknown } } }): AppRuntime {
  const p = config.process ?? {};
  const strings = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);
  const args = strings(p.args);
  if (args.length === 0) throw userError("The image has no command to run (neither ENTRYPOINT nor CMD).", { title: "Deploy failed", hint: "Add a CMD to the Dockerfile that starts the app on $PORT." });
  const id = (v: unknown) => (typeof v === "number" && Number.isInteger(v) && v >= 0 && v < 2 ** 32 ? v : 0);
  return { args, env: strings(p.env), cwd: typeof p.cwd === "string" ? p.cwd : "/", uid: id(p.user?.uid), gid: id(p.user?.gid) };
}

/** One tool of the conversion; it dies with microship, even a kill -9, so none writes on into a work dir the next start removes. */
async function step(cmd: string, args: string[]): Promise<void> {
  const r = await execa(...withParentDeath([cmd, ...args]), { reject: false, stdin: "ignore", timeout: 600_000 });
  if (r.exitCode !== 0) throw infraError(`${cmd} failed (exit ${r.exitCode ?? "killed"}): ${(r.stderr || r.stdout || "").slice(-500)}`, { title: "Deploy image conversion failed" });
}
