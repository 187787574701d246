import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, lstatSync, mkdtempSync, readdirSync, rmSync, writeFileSync, type Dirent } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startGitHubFake, type GitHubFake } from "../fakes/github/github-fake.ts";
import { appCredentials } from "../fakes/app-credentials.ts";
import { GitCheckout, type GitCheckoutOptions } from "../../src/source/checkout.ts";
import { isMicroshipError } from "../../src/core/errors.ts";
import { buildRequest } from "../helpers/build-requests.ts";

/**
 * Hole 12: a push stored as 7 MiB expanded to 3.1 GiB in the checkout. The fetch is now capped
 * while it runs, the tree is measured before checkout, and the checkout dir is removed on refusal.
 * The bombs are written with git plumbing into the fake's bare repository, as an attacker would push them.
 */

const OWNER = "octo-org";
const REPO = "shop";

async function fake(t: { after(fn: () => Promise<void> | void): void }): Promise<GitHubFake> {
  const creds = appCredentials();
  const f = await startGitHubFake({ appId: creds.appId, publicKeyPem: creds.publicKeyPem });
  t.after(() => f.close());
  f.createRepo({ owner: OWNER, repo: REPO, installationId: 77 });
  return f;
}

/** Writes objects with plumbing; returns the commit's sha. */
function bomb(f: GitHubFake, make: (git: (args: string[], input?: string | Buffer) => string) => string): string {
  const gitDir = f.repos.path(OWNER, REPO);
  const git = (args: string[], input?: string | Buffer) => execFileSync("git", ["--git-dir", gitDir, ...args], { input, maxBuffer: 64 * 1024 * 1024 }).toString().trim();
  const tree = make(git);
  const env = { ...process.env, GIT_AUTHOR_NAME: "m", GIT_AUTHOR_EMAIL: "m@example.com", GIT_COMMITTER_NAME: "m", GIT_COMMITTER_EMAIL: "m@example.com" };
  const sha = execFileSync("git", ["--git-dir", gitDir, "commit-tree", tree, "-m", "bomb"], { env }).toString().trim();
  git(["update-ref", "refs/heads/bomb", sha]);
  return sha;
}

/** A tree of `n` entries that all name the same object. */
const fanOut = (git: (args: string[], input?: string) => string, mode: string, type: string, sha: string, n: number) =>
  git(["mktree"], Array.from({ length: n }, (_, i) => `${mode} ${type} ${sha}\tf${String(i).padStart(4, "0")}`).join("\n") + "\n");

function checkout(t: { after(fn: () => void): void }, f: GitHubFake, o: Partial<GitCheckoutOptions> = {}) {
  const workDir = mkdtempSync(join(tmpdir(), "ms-sec-bomb-"));
  t.after(() => rmSync(workDir, { recursive: true, force: true }));
  const source = new GitCheckout({ tokens: { installationToken: async () => f.state.mintToken(77)!.token }, gitBaseUrl: f.url, workDir, attempts: 1, ...o });
  let peak = 0;
  const du = () => diskUse(workDir);
  const timer = setInterval(() => (peak = Math.max(peak, du())), 50);
  t.after(() => clearInterval(timer));
  return { source, workDir, peak: () => Math.max(peak, du()) };
}

/**
 * Bytes on disk under `dir`. git creates and removes lock files while it runs, so an entry that
 * vanishes between the listing and its stat is skipped, not an error (`du` exits 1 on it).
 */
function diskUse(dir: string): number {
  let bytes = 0;
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) bytes += diskUse(path);
    else {
      try {
        bytes += lstatSync(path).blocks * 512;
      } catch {
        // Gone since the listing.
      }
    }
  }
  return bytes;
}

const userError = (re: RegExp) => (e: unknown) => isMicroshipError(e) && e.kind === "user" && re.test(e.message);

test("a size bomb (one 1 MiB blob named 600 times) is refused before checkout; the disk never holds it", async (t) => {
  const f = await fake(t);
  const sha = bomb(f, (git) => fanOut(git, "100644", "blob", git(["hash-object", "-w", "--stdin"], Buffer.alloc(1024 * 1024)), 600));
  const c = checkout(t, f);
  await assert.rejects(c.source.checkout(buildRequest({ owner: OWNER, repo: REPO, sha, installationId: 77 }), new AbortController().signal), userError(/expands to more than 512 MiB/));
  assert.ok(c.peak() < 64 * 1024 * 1024, `the checkout reached ${c.peak()} bytes`);
  assert.deepEqual(readdirSync(c.workDir), [], "the checkout dir is removed");
});

test("a count bomb (8^6 = 262,144 files from six nested trees) is refused before checkout", { timeout: 60_000 }, async (t) => {
  const f = await fake(t);
  const sha = bomb(f, (git) => {
    let tree = fanOut(git, "100644", "blob", git(["hash-object", "-w", "--stdin"], ""), 8);
    for (let i = 0; i < 5; i++) tree = fanOut(git, "040000", "tree", tree, 8);
    return tree;
  });
  const c = checkout(t, f);
  const t0 = Date.now();
  await assert.rejects(c.source.checkout(buildRequest({ owner: OWNER, repo: REPO, sha, installationId: 77 }), new AbortController().signal), userError(/expands to more than 100000 files/));
  // Checking the bomb out takes minutes here; refusing it, the time of a fetch and a listing.
  assert.ok(Date.now() - t0 < 20_000, `took ${Date.now() - t0} ms`);
  assert.deepEqual(readdirSync(c.workDir), []);
});

test("a fetch past its cap is killed while it runs, and its files removed", async (t) => {
  const f = await fake(t);
  const sha = bomb(f, (git) => fanOut(git, "100644", "blob", git(["hash-object", "-w", "--stdin"], randomBytes(24 * 1024 * 1024)), 1));
  const c = checkout(t, f, { maxFetchBytes: 4 * 1024 * 1024 });
  await assert.rejects(c.source.checkout(buildRequest({ owner: OWNER, repo: REPO, sha, installationId: 77 }), new AbortController().signal), userError(/larger than 4 MiB, so the fetch was stopped/));
  assert.deepEqual(readdirSync(c.workDir), []);
});

test("a commit within the caps checks out as before", async (t) => {
  const f = await fake(t);
  const sha = f.commit({ owner: OWNER, repo: REPO, branch: "main", files: { "index.js": "1", "a/b.txt": "2" } });
  const c = checkout(t, f, { maxFiles: 2, maxBytes: 2, maxFetchBytes: 1024 * 1024 });
  const out = await c.source.checkout(buildRequest({ owner: OWNER, repo: REPO, sha, installationId: 77 }), new AbortController().signal);
  t.after(() => out.cleanup());
  assert.deepEqual(readdirSync(out.dir).sort(), [".git", "a", "index.js"]);
});

test("a repository's .gitattributes cannot run a filter from the operator's ~/.gitconfig during checkout", async (t) => {
  const f = await fake(t);
  const home = mkdtempSync(join(tmpdir(), "ms-sec-home-"));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const marker = join(home, "filter-ran");
  writeFileSync(join(home, ".gitconfig"), `[filter "lfs"]\n\tsmudge = touch ${marker}; cat\n\trequired = true\n`);
  const sha = f.commit({ owner: OWNER, repo: REPO, branch: "main", files: { ".gitattributes": "* filter=lfs\n", "index.js": "1" } });
  const saved = process.env.HOME;
  process.env.HOME = home;
  t.after(() => void (process.env.HOME = saved));
  const c = checkout(t, f);
  const out = await c.source.checkout(buildRequest({ owner: OWNER, repo: REPO, sha, installationId: 77 }), new AbortController().signal);
  t.after(() => out.cleanup());
  assert.equal(existsSync(marker), false, "the smudge filter ran");
});
