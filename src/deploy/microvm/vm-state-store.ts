import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, opendirSync, readSync, chmodSync, unlinkSync } from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import type { OpLog } from "../../core/ports.ts";
import { envSchema, namingProblem, savedVmSchema, type SavedVm } from "./saved-vm.ts";
import { loadStateKey } from "./state-key.ts";

export interface VmStateStoreOptions {
  /** One file per VM, `{instance}.json`; made 0700. */
  dir: string;
  /** The env key (state-key.ts); default `{dir}.key`, beside the dir so a copy of the dir lacks it. */
  keyFile?: string;
  log?: OpLog;
  /** Bounds on what a load reads (default 500 files of at most 256 KiB, among at most 2,000 entries). */
  maxFiles?: number;
  maxFileBytes?: number;
}

export interface LoadedVm {
  saved: SavedVm;
  env: Record<string, string>;
}

const b64 = z.string().max(1_000_000).regex(/^[A-Za-z0-9+/=]*$/);
const fileSchema = z.object({ v: z.literal(1), record: z.string().max(100_000), env: z.object({ iv: b64, tag: b64, data: b64 }).strict() }).strict();
const AAD = "microship/vm-state/v1\n";
const FILE_SAFE = /^[a-z0-9-]{1,100}$/;

/**
 * The microvm deployer's records on disk, so its deployments survive a restart. Each file is
 * written whole under a temporary name and renamed into place (0600), so a crash leaves the old
 * file or the new, never half of one. The env is sealed with AES-256-GCM whose additional data is
 * the record itself, so a record edited on disk fails to open. Files are read as untrusted:
 * bounded, never through a symlink, schema- and name-checked; a bad one is skipped with a warning.
 */
export class VmStateStore {
  readonly dir: string;
  private readonly key: Buffer;
  private readonly o: VmStateStoreOptions;
  private readonly chains = new Map<string, Promise<void>>();

  constructor(o: VmStateStoreOptions) {
    this.o = o;
    this.dir = o.dir;
    mkdirSync(o.dir, { recursive: true, mode: 0o700 });
    const st = lstatSync(o.dir);
    if (!st.isDirectory()) throw new Error(`the deploy state dir ${o.dir} is not a directory (a symlink is refused)`);
    if ((st.mode & 0o077) !== 0) chmodSync(o.dir, 0o700);
    this.key = loadStateKey(o.keyFile ?? `${o.dir}.key`, o.log);
  }

  /** Writes the VM's file; writes and removals of one instance happen in the order asked. */
  save(saved: SavedVm, env: Record<string, string>): Promise<void> {
    return this.saveWith(saved.instance, () => ({ saved, env }));
  }

  /** As save, with the record made when its turn comes (after the instance's earlier writes). */
  saveWith(instance: string, get: () => LoadedVm | Promise<LoadedVm>): Promise<void> {
    return this.queue(instance, async () => {
      const { saved, env } = await get();
      if (saved.instance !== instance) throw new Error("a record saved under another instance");
      await this.write(saved, env);
    });
  }

  remove(instance: string): Promise<void> {
    return this.queue(instance, () => rm(this.path(instance), { force: true }));
  }

  /** Resolves once every write and removal asked for so far is done. */
  async flush(): Promise<void> {
    while (this.chains.size > 0) await Promise.all(this.chains.values());
  }

  private queue(instance: string, op: () => Promise<void>): Promise<void> {
    const run = (this.chains.get(instance) ?? Promise.resolve()).then(op).catch((err: unknown) => {
      this.o.log?.warn({ instance, err: String(err).slice(0, 500) }, "the deploy state could not be written; this deployment may not come back after a restart");
    });
    this.chains.set(instance, run);
    void run.finally(() => this.chains.get(instance) === run && this.chains.delete(instance));
    return run;
  }

  private path(instance: string): string {
    if (!FILE_SAFE.test(instance)) throw new Error(`not an instance name: ${instance.slice(0, 100)}`);
    return join(this.dir, `${instance}.json`);
  }

  private async write(saved: SavedVm, env: Record<string, string>): Promise<void> {
    const dest = this.path(saved.instance);
    const tmp = join(this.dir, `.${saved.instance}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
    const f = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    try {
      await f.writeFile(this.seal(savedVmSchema.parse(saved), env));
      await f.sync();
      await f.close();
      await rename(tmp, dest);
    } catch (err) {
      await f.close().catch(() => undefined);
      await rm(tmp, { force: true });
      throw err;
    }
  }

  /** The file's bytes: the record in clear (for an operator to read), its env sealed to it. */
  seal(saved: SavedVm, env: Record<string, string>): string {
    const record = JSON.stringify(saved);
    const iv = randomBytes(12);
    const c = createCipheriv("aes-256-gcm", this.key, iv);
    c.setAAD(Buffer.from(AAD + record));
    const data = Buffer.concat([c.update(JSON.stringify(env), "utf8"), c.final()]);
    return JSON.stringify({ v: 1, record, env: { iv: iv.toString("base64"), tag: c.getAuthTag().toString("base64"), data: data.toString("base64") } });
  }

  /** The record and env of a file's bytes, or why they are refused. */
  open(bytes: string, fileName: string): LoadedVm | string {
    let outer: z.infer<typeof fileSchema>;
    let saved: SavedVm;
    try {
      outer = fileSchema.parse(JSON.parse(bytes));
      saved = savedVmSchema.parse(JSON.parse(outer.record));
    } catch (err) {
      return `not a deploy state file (${String(err).slice(0, 200)})`;
    }
    const naming = namingProblem(saved);
    if (naming) return naming;
    if (fileName !== `${saved.instance}.json`) return "the file name does not match its instance";
    try {
      const d = createDecipheriv("aes-256-gcm", this.key, Buffer.from(outer.env.iv, "base64"));
      d.setAAD(Buffer.from(AAD + outer.record));
      d.setAuthTag(Buffer.from(outer.env.tag, "base64"));
      const plain = Buffer.concat([d.update(Buffer.from(outer.env.data, "base64")), d.final()]).toString("utf8");
      return { saved, env: envSchema.parse(JSON.parse(plain)) };
    } catch {
      return "its env does not open with this data dir's key (edited, or written with another key)";
    }
  }

  /** Every good file, read synchronously at start (bounded); each refused one is warned about and left for the operator. */
  loadAll(): LoadedVm[] {
    const out: LoadedVm[] = [];
    const dir = opendirSync(this.dir);
    try {
      for (let seen = 0, ent = dir.readSync(); ent && seen < 2_000; ent = dir.readSync(), seen++) {
        if (ent.name.startsWith(".") && ent.name.endsWith(".tmp")) {
          // A write a crash cut short: the file it was to replace is still whole.
          try {
            unlinkSync(join(this.dir, ent.name));
          } catch {
            // Left for the next start; it is never read.
          }
          continue;
        }
        if (!ent.name.endsWith(".json")) continue;
        if (out.length >= (this.o.maxFiles ?? 500)) {
          this.o.log?.warn({ dir: this.dir }, "too many deploy state files; the rest are not restored");
          break;
        }
        const got = this.readOne(ent.name);
        if (typeof got === "string") this.o.log?.warn({ file: ent.name.slice(0, 120), why: got }, "a deploy state file was ignored");
        else out.push(got);
      }
    } finally {
      dir.closeSync();
    }
    return out;
  }

  private readOne(name: string): LoadedVm | string {
    let fd: number;
    try {
      fd = openSync(join(this.dir, name), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === "ELOOP" ? "it is a symlink" : `it can't be opened (${(err as NodeJS.ErrnoException).code})`;
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) return "it is not a regular file";
      const max = this.o.maxFileBytes ?? 256 * 1024;
      if (st.size > max) return `it is larger than ${max} bytes`;
      const buf = Buffer.alloc(st.size);
      const n = readSync(fd, buf, 0, st.size, 0);
      return this.open(buf.subarray(0, n).toString("utf8"), name);
    } finally {
      closeSync(fd);
    }
  }
}
