import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

export type FileSpec = string | Buffer | { symlink: string } | { content: string; mode: 0o755 };

const AUTHOR = { GIT_AUTHOR_NAME: "Mona Lisa", GIT_AUTHOR_EMAIL: "mona@example.com", GIT_COMMITTER_NAME: "Mona Lisa", GIT_COMMITTER_EMAIL: "mona@example.com" };

/** Bare repositories under one root, seeded with plumbing commands (no clone needed). */
export class GitRepos {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  path(owner: string, repo: string): string {
    return join(this.root, owner, `${repo}.git`);
  }

  create(owner: string, repo: string, defaultBranch: string): void {
    const dir = this.path(owner, repo);
    mkdirSync(dir, { recursive: true });
    this.git(dir, ["init", "--bare", "--quiet", `--initial-branch=${defaultBranch}`]);
    // GitHub serves any reachable sha; tests fetch one exact sha shallowly, as the app does.
    this.git(dir, ["config", "uploadpack.allowAnySHA1InWant", "true"]);
    this.git(dir, ["config", "uploadpack.allowReachableSHA1InWant", "true"]);
    this.git(dir, ["config", "http.receivepack", "false"]);
  }

  rename(owner: string, from: string, to: string): void {
    renameSync(this.path(owner, from), this.path(owner, to));
  }

  /** Writes a snapshot with exactly `files` as a new commit on `ref` (a branch name or a full ref). */
  commit(owner: string, repo: string, ref: string, files: Record<string, FileSpec>, message = "Update"): string {
    const gitDir = this.path(owner, repo);
    const fullRef = ref.startsWith("refs/") ? ref : `refs/heads/${ref}`;
    const work = mkdtempSync(join(tmpdir(), "fake-gh-work-"));
    const index = join(work, ".index");
    try {
      const tree = join(work, "tree");
      mkdirSync(tree);
      for (const [p, spec] of Object.entries(files)) {
        const file = join(tree, p);
        mkdirSync(dirname(file), { recursive: true });
        if (typeof spec === "string" || Buffer.isBuffer(spec)) writeFileSync(file, spec);
        else if ("symlink" in spec) symlinkSync(spec.symlink, file);
        else {
          writeFileSync(file, spec.content);
          chmodSync(file, spec.mode);
        }
      }
      const env = { ...process.env, ...AUTHOR, GIT_INDEX_FILE: index };
      const run = (args: string[]) => execFileSync("git", ["--git-dir", gitDir, "--work-tree", tree, ...args], { env }).toString().trim();
      run(["add", "-A", "."]);
      const treeSha = run(["write-tree"]);
      let parent: string | null = null;
      try {
        parent = run(["rev-parse", "--verify", "--quiet", fullRef]);
      } catch {
        parent = null;
      }
      const sha = run(["commit-tree", treeSha, ...(parent ? ["-p", parent] : []), "-m", message]);
      run(["update-ref", fullRef, sha]);
      return sha;
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }

  setRef(owner: string, repo: string, ref: string, sha: string): void {
    this.git(this.path(owner, repo), ["update-ref", ref, sha]);
  }

  /** A file's bytes at a ref or sha, or null. */
  read(owner: string, repo: string, ref: string, file: string): Buffer | null {
    try {
      return execFileSync("git", ["--git-dir", this.path(owner, repo), "show", `${ref}:${file}`], { stdio: ["ignore", "pipe", "ignore"] });
    } catch {
      return null;
    }
  }

  private git(dir: string, args: string[]): void {
    execFileSync("git", ["--git-dir", dir, ...args], { stdio: "ignore" });
  }
}
