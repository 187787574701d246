import { readFile, realpath, stat } from "node:fs/promises";
import { join, relative, isAbsolute, sep } from "node:path";
import type { ResolvedAppConfig } from "../config/repo-config.ts";
import { userError } from "../core/errors.ts";

/** What a provider sees: one app directory, its config, and read helpers. */
export class DetectContext {
  readonly repoDir: string;
  readonly appDir: string;
  readonly root: string;
  readonly config: ResolvedAppConfig;
  readonly baseImageMirror: string | null;
  private readonly cache = new Map<string, Promise<string | null>>();
  private repoReal: Promise<string> | null = null;

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

  /**
   * The text of an app file, or null when it does not exist. A file whose real path leaves the
   * repository (a symlink to /proc/self/environ, `dockerfile: ../../etc/passwd`) is a user error:
   * detection runs on the host, and its messages end up in a public check run.
   */
  read(file: string): Promise<string | null> {
    let p = this.cache.get(file);
    if (!p) {
      p = this.insideRepo(file).then((abs) => (abs === null ? null : readFile(abs, "utf8").catch(() => null)));
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
    if (this.config.base_image) return this.config.base_image;
    return this.baseImageMirror ? `${this.baseImageMirror.replace(/\/+$/, "")}/${official}` : official;
  }

  /** The real path of an app file when it exists and stays inside the repository. */
  private async insideRepo(file: string): Promise<string | null> {
    const abs = join(this.appDir, file);
    const real = await realpath(abs).catch(() => null);
    if (real === null) return null;
    this.repoReal ??= realpath(this.repoDir);
    const rel = relative(await this.repoReal, real);
    if (rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel)) return real;
    throw userError(`\`${this.rel(file)}\` leads outside the repository, so microship will not read it.`, {
      title: "Path outside the repository",
      location: { file: this.rel(file) },
      hint: `Make ${this.rel(file)} a regular file inside the repository (not a symlink out of it), or fix the path in .github/microship.yml.`,
    });
  }
}
