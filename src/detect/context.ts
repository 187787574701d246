import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { ResolvedAppConfig } from "../config/repo-config.ts";
import { userError } from "../core/errors.ts";

/** What a provider sees: one app directory, its config, and read helpers that never throw. */
export class DetectContext {
  readonly repoDir: string;
  readonly appDir: string;
  readonly root: string;
  readonly config: ResolvedAppConfig;
  readonly baseImageMirror: string | null;
  private readonly cache = new Map<string, Promise<string | null>>();

  constructor(repoDir: string, config: ResolvedAppConfig, baseImageMirror: string | null) {
    this.repoDir = repoDir;
    this.root = config.root ?? ".";
    this.appDir = join(repoDir, this.root);
    this.config = config;
    this.baseImageMirror = baseImageMirror;
  }

  /** Repo-relative path of an app file, for messages and annotations. */
  rel(file: string): string {
    return this.root === "." ? file : `${this.root.replace(/\/+$/, "")}/${file}`;
  }

  read(file: string): Promise<string | null> {
    let p = this.cache.get(file);
    if (!p) {
      p = readFile(join(this.appDir, file), "utf8").catch(() => null);
      this.cache.set(file, p);
    }
    return p;
  }

  async exists(file: string): Promise<boolean> {
    return stat(join(this.appDir, file)).then(() => true, () => false);
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
      return JSON.parse(text) as Record<string, any>;
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
    if (this.config.base_image) return this.config.base_image;
    return this.baseImageMirror ? `${this.baseImageMirror.replace(/\/+$/, "")}/${official}` : official;
  }
}
