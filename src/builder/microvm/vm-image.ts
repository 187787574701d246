import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { execa } from "execa";
import { infraError } from "../../core/errors.ts";
import { LineSplitter } from "../log-lines.ts";
import { withDirLock } from "./dir-lock.ts";

/** Where the builder VM's recipe lives: images/microvm/ of this checkout. */
export const VM_RECIPE_DIR = new URL("../../../images/microvm/", import.meta.url).pathname;

export interface VmImage {
  dir: string;
  kernel: string;
  initramfs: string;
  /** The shared builder root: never written, each build boots a copy-on-write overlay of it. */
  rootDisk: string;
  kernelVersion: string;
  /** Hash of the recipe and the kernel package: a new one means a rebuild. */
  inputsHash: string;
  /** True when this call built it. */
  built: boolean;
  buildMs: number;
}

export interface EnsureVmImageOptions {
  /** MICROSHIP_DATA_DIR: the image goes to <dataDir>/vm/<hash>/. */
  dataDir: string;
  /** The first build takes minutes, so each step is reported (default: stderr). */
  progress?: (line: string) => void;
  recipeDir?: string;
  /** Rebuild even when an image of the same inputs exists. */
  force?: boolean;
}

const inFlight = new Map<string, Promise<VmImage>>();

/**
 * The builder VM image, built on first use from Debian packages (images/microvm/build-vm-image.sh)
 * and reused until its inputs change: the recipe's files and the kernel package apt resolves.
 */
export function ensureVmImage(o: EnsureVmImageOptions): Promise<VmImage> {
  const key = `${o.dataDir}\0${o.recipeDir ?? VM_RECIPE_DIR}\0${o.force ? 1 : 0}`;
  let p = inFlight.get(key);
  if (!p) {
    p = ensure(o).finally(() => inFlight.delete(key));
    inFlight.set(key, p);
  }
  return p;
}

async function ensure(o: EnsureVmImageOptions): Promise<VmImage> {
  const recipe = o.recipeDir ?? VM_RECIPE_DIR;
  const progress = o.progress ?? ((line: string) => process.stderr.write(`${line}\n`));
  const vmRoot = join(o.dataDir, "vm");
  const recipeHash = hashRecipe(recipe);
  const kernelPackage = await resolveKernelPackage();
  if (!kernelPackage) {
    // No apt lists (apt-get update never ran): an image of the same recipe is still good.
    const existing = findReady(vmRoot, recipeHash);
    if (existing) return existing;
    throw infraError("Cannot resolve Debian's linux-image-amd64 package to build the builder VM.", {
      title: "Builder VM image missing",
      hint: "Run `apt-get update` on the build host, then `microship images build-vm`.",
    });
  }
  const inputsHash = createHash("sha256").update(`${recipeHash}\n${kernelPackage}\n`).digest("hex").slice(0, 16);
  const dir = join(vmRoot, inputsHash);
  if (!o.force && isReady(dir)) return image(dir, inputsHash, false, 0);
  await mkdir(vmRoot, { recursive: true });
  return withDirLock(join(vmRoot, `${inputsHash}.lock`), async () => {
    if (!o.force && isReady(dir)) return image(dir, inputsHash, false, 0);
    const t0 = Date.now();
    progress(`microship: building the builder VM image ${inputsHash} (${kernelPackage}); this takes a few minutes the first time`);
    const tmp = `${dir}.tmp-${process.pid}`;
    await rm(tmp, { recursive: true, force: true });
    const splitter = new LineSplitter("stderr", (l) => progress(l.text));
    const child = execa("bash", [join(recipe, "build-vm-image.sh"), tmp, kernelPackage], { reject: false, stdin: "ignore", stdout: "pipe", stderr: "pipe", buffer: false });
    child.stdout.on("data", (c: Buffer) => splitter.write(c));
    child.stderr.on("data", (c: Buffer) => splitter.write(c));
    const r = await child;
    splitter.end();
    if (r.exitCode !== 0) {
      await rm(tmp, { recursive: true, force: true });
      throw infraError(`Building the builder VM image failed (exit ${r.exitCode}).`, { title: "Builder VM image build failed", hint: "Run `microship images build-vm` on the build host to see why." });
    }
    await writeFile(join(tmp, "inputs"), `recipe ${recipeHash}\nkernel-package ${kernelPackage}\n`);
    await rm(dir, { recursive: true, force: true });
    await rename(tmp, dir);
    await writeFile(join(dir, "ready"), `${new Date().toISOString()}\n`);
    const ms = Date.now() - t0;
    progress(`microship: builder VM image ready in ${(ms / 1000).toFixed(0)} s: ${dir}`);
    return image(dir, inputsHash, true, ms);
  });
}

function image(dir: string, inputsHash: string, built: boolean, buildMs: number): VmImage {
  return {
    dir,
    kernel: join(dir, "vmlinux"),
    initramfs: join(dir, "initramfs.cpio.gz"),
    rootDisk: join(dir, "builder.ext4"),
    kernelVersion: readFileSync(join(dir, "kernel-version"), "utf8").trim(),
    inputsHash,
    built,
    buildMs,
  };
}

function isReady(dir: string): boolean {
  return ["ready", "vmlinux", "initramfs.cpio.gz", "builder.ext4", "kernel-version"].every((f) => existsSync(join(dir, f)));
}

function findReady(vmRoot: string, recipeHash: string): VmImage | null {
  if (!existsSync(vmRoot)) return null;
  const candidates = readdirSync(vmRoot)
    .map((name) => join(vmRoot, name))
    .filter((d) => isReady(d) && readFileSync(join(d, "inputs"), "utf8").includes(`recipe ${recipeHash}\n`))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  return candidates[0] ? image(candidates[0], candidates[0].split("/").pop()!, false, 0) : null;
}

/** Every file of the recipe, by relative path and content. */
export function hashRecipe(recipeDir: string): string {
  const h = createHash("sha256");
  for (const file of listFiles(recipeDir)) {
    h.update(`${relative(recipeDir, file)}\0`);
    h.update(readFileSync(file));
    h.update("\0");
  }
  return h.digest("hex");
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .flatMap((e) => (e.isDirectory() ? listFiles(join(dir, e.name)) : e.isFile() ? [join(dir, e.name)] : []));
}

/** linux-image-amd64's current dependency, e.g. linux-image-6.1.0-56-amd64; null without apt lists. */
async function resolveKernelPackage(): Promise<string | null> {
  const r = await execa("apt-cache", ["depends", "linux-image-amd64"], { reject: false });
  return /Depends:\s+(linux-image-\S+)/.exec(r.stdout ?? "")?.[1] ?? null;
}
