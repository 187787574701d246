import { join, posix } from "node:path";
import type { ResolvedAppConfig } from "../core/repo-config.ts";
import { userError } from "../core/errors.ts";
import { safeExists, safeReadFile } from "../source/safe-read.ts";

/** Lockfiles can be large; anything past this is not a manifest detection should parse. */
export const DETECT_MAX_BYTES = 32 * 1024 * 1024;
/** Files microship itself reads or puts in the archive: no symlink at all there. */
const OWN_FILES = new Set(["Dockerfile", ".dockerignore"]);

/** What a provider sees: one app directory, its config, and read helpers. */
export class DetectContext {
  readonly repoDir: string;
  readonly appDir: string;
  readonly root: string;
  readonly config: ResolvedAppConfig;
  readonly baseImageMirror: string | null;
  /** YYYY-MM-DD, for end-of-life warnings; fixed by tests so plans don't change with the calendar. */
  readonly today: string;
  private readonly cache = new Map<string, Promise<string | null>>();

  constructor(repoDir: string, config: ResolvedAppConfig, baseImageMirror: string | null, today = new Date().toISOString().slice(0, 10)) {
    this.repoDir = repoDir;
    this.root = config.root ?? ".";
    this.appDir = join(repoDir, this.root);
    this.config = config;
    this.baseImageMirror = baseImageMirror;
    this.today = today;
  }

  /** Repo-relative path of an app file, for messages and annotations. */
  rel(file: string): string {
    return this.root === "." ? file : `${this.root.replace(/\/+$/, "")}/${file}`;
  }

  /**
   * The text of an app file, or null when it does not exist. Read through the safe reader: a
   * file whose real path leaves the repository (a symlink to /proc/self/environ, `dockerfile:
   * ../../etc/passwd`), a special file or one over the cap is a user error, because detection
   * runs on the host and its messages end up in a public check run.
   */
  read(file: string): Promise<string | null> {
    let p = this.cache.get(file);
    if (!p) {
      p = safeReadFile(this.repoDir, this.repoPath(file), { maxBytes: DETECT_MAX_BYTES, noLink: OWN_FILES.has(posix.normalize(file)), display: this.rel(file) });
      this.cache.set(file, p);
    }
    return p;
  }

  /**
   * A file at the repository's root rather than the app's (render.yaml describes every service of
   * a repository), read as `read` reads, with its own size cap.
   */
  readAtRepoRoot(file: string, maxBytes: number): Promise<string | null> {
    return safeReadFile(this.repoDir, posix.normalize(file), { maxBytes, noLink: false, display: file });
  }

  /** Whether an app file exists inside the repository; a link out of it is a user error, as for read. */
  exists(file: string): Promise<boolean> {
    return safeExists(this.repoDir, this.repoPath(file), this.rel(file));
  }

  async firstExisting(files: string[]): Promise<string | null> {
    for (const f of files) if (await this.exists(f)) return f;
    return null;
  }

  /** Parsed JSON, or a user error that names the file and line when it does not parse. */
  async readJson(file: string): Promise<Record<string, any> | null> {
    const text = await this.read(file);
    if (text === null) return null;
    try {
      const value: unknown = JSON.parse(text);
      if (value && typeof value === "object" && !Array.isArray(value)) return value as Record<string, any>;
      throw new Error("the top level must be an object");
    } catch (err) {
      const pos = /position (\d+)/.exec(String(err))?.[1];
      const line = pos ? text.slice(0, Number(pos)).split("\n").length : undefined;
      throw userError(`${this.rel(file)} is not valid JSON: ${(err as Error).message}`, {
        title: `Invalid ${file}`,
        location: { file: this.rel(file), line },
        hint: `Fix the syntax of ${this.rel(file)}${line ? ` near line ${line}` : ""}; \`node -e "require('./${file}')"\` shows the same error locally.`,
      });
    }
  }

  /** The Procfile's `web:` command, if any. */
  async procfileWeb(): Promise<string | null> {
    const text = await this.read("Procfile");
    const m = text ? /^web:\s*(.+)$/m.exec(text) : null;
    return m ? m[1]!.trim() : null;
  }

  /** `FROM` for an official image name, honouring base_image from config and the mirror. */
  baseImage(official: string): string {
    return this.config.base_image ?? this.mirrored(official);
  }

  /** An official image through the base image mirror, if any; `base_image` doesn't apply. */
  mirrored(official: string): string {
    return this.baseImageMirror ? `${this.baseImageMirror.replace(/\/+$/, "")}/${official}` : official;
  }

  private repoPath(file: string): string {
    return posix.join(this.root, file);
  }
}
