import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { simpleGit } from "simple-git";
import type { Checkout, SourceFetcher } from "../core/ports.ts";
import type { BuildRequest } from "../core/types.ts";
import { cancelledError, isMicroshipError, transientError, userError } from "../core/errors.ts";
import { redact } from "../core/redact.ts";
import { DEFAULT_MAX_BYTES, DEFAULT_MAX_FILES } from "./archive.ts";
import { checkTreeSize } from "./tree-size.ts";
import { readSubject } from "./read-subject.ts";
import { sizeOf, watchDirSize } from "./watch-dir-size.ts";

export interface TokenProvider {
  /** An installation token, fresh enough for the whole fetch. */
  installationToken(installationId: number): Promise<string>;
}

export interface GitCheckoutOptions {
  tokens: TokenProvider;
  /** e.g. https://github.com or http://127.0.0.1:PORT for GitHub Enterprise Server and tests. */
  gitBaseUrl: string;
  workDir: string;
  attempts?: number;
  /** The most a checked-out commit may expand to, summed over its files. */
  maxBytes?: number;
  maxFiles?: number;
  /** The most the fetch may store under .git/objects; git is killed past it. Defaults to maxBytes. */
  maxFetchBytes?: number;
}

/**
 * Fetches exactly one sha, shallow, into a fresh temp dir that is always removed on failure.
 * The token travels in an `http.extraHeader` set through GIT_CONFIG_* variables: never in the
 * URL, never in argv, so it shows in no process listing, log or error.
 * The repository is hostile: the fetch is killed when it stores more than a cap, and the tree is
 * measured before checkout, so a git bomb never reaches the disk (tree-size.ts).
 */
export class GitCheckout implements SourceFetcher {
  private readonly o: Required<GitCheckoutOptions>;

  constructor(options: GitCheckoutOptions) {
    const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    this.o = { attempts: 3, maxFiles: DEFAULT_MAX_FILES, maxFetchBytes: maxBytes, ...options, maxBytes };
  }

  async checkout(request: BuildRequest, signal: AbortSignal): Promise<Checkout> {
    const dir = await mkdtemp(join(this.o.workDir, "checkout-"));
    // A killed fetch's helpers may still be writing for a moment: retry what they add.
    const cleanup = () => rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          const subject = await this.fetch(request, dir, signal);
          return { dir, cleanup, subject };
        } catch (err) {
          if (signal.aborted) throw cancelledError("The build was cancelled during checkout.");
          if (isMicroshipError(err) && err.kind === "user") throw err;
          const e = classify(err, request);
          if (e.kind !== "transient" || attempt >= this.o.attempts) throw e;
          await new Promise((r) => setTimeout(r, 500 * 2 ** attempt));
        }
      }
    } catch (err) {
      await cleanup();
      throw err;
    }
  }

  /** Fetches and checks out the sha; its message's first line (see read-subject.ts), or null. */
  private async fetch(request: BuildRequest, dir: string, signal: AbortSignal): Promise<string | null> {
    const token = await this.o.tokens.installationToken(request.installationId);
    const basic = Buffer.from(`x-access-token:${token}`).toString("base64");
    const env = gitEnv(dir, `Authorization: Basic ${basic}`);
    // Stops git when the build is cancelled or the fetch passes its cap.
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    signal.addEventListener("abort", onAbort, { once: true });
    const git = gitClient(dir, stop.signal, env);
    const remote = `${this.o.gitBaseUrl.replace(/\/+$/, "")}/${request.owner}/${request.repo}.git`;
    await git.init();
    await git.addRemote("origin", remote);
    // Fork heads live only under pull/N/head of the base repo; everything else is fetched by sha.
    const what = request.fetchRef ? `+${request.fetchRef}:refs/remotes/origin/pr-head` : request.sha;
    let tooBig: Error | null = null;
    const objects = join(dir, ".git", "objects");
    const refuse = () => userError(`The commit's objects are larger than ${mib(this.o.maxFetchBytes)} MiB, so the fetch was stopped.`, {
      title: "Source too large",
      hint: "Keep build outputs, large assets and vendored trees out of the repository, or ask your operator to raise the checkout caps.",
    });
    const unwatch = watchDirSize(objects, this.o.maxFetchBytes, () => {
      tooBig = refuse();
      stop.abort();
    });
    try {
      await git.raw(["fetch", "--depth=1", "--no-tags", "origin", what]);
    } catch (err) {
      signal.removeEventListener("abort", onAbort);
      throw tooBig ?? err;
    } finally {
      unwatch();
    }
    try {
      if (tooBig) throw tooBig;
      // A fetch quicker than the watch's period is measured once it is done.
      if ((await sizeOf(objects)) > this.o.maxFetchBytes) throw refuse();
      // ls-tree reads only local objects: it gets no token.
      const local = { PATH: env.PATH!, HOME: env.HOME!, LANG: "C.UTF-8", GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" };
      await checkTreeSize(dir, request.sha, { maxBytes: this.o.maxBytes, maxFiles: this.o.maxFiles }, local, signal);
      await git.raw(["-c", "advice.detachedHead=false", "checkout", "--detach", request.sha]);
      return await readSubject(dir, request.sha, local, signal);
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }
}

/** A minimal environment: the parent's may carry git variables that change where or how we fetch. */
function gitEnv(dir: string, authHeader: string): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? dir,
    LANG: "C.UTF-8",
    GIT_TERMINAL_PROMPT: "0",
    GIT_CONFIG_NOSYSTEM: "1",
    // Nor the operator's ~/.gitconfig: its filters, hooks or fsmonitor would run on a hostile tree.
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_CONFIG_COUNT: "1",
    GIT_CONFIG_KEY_0: "http.extraHeader",
    GIT_CONFIG_VALUE_0: authHeader,
  };
  if (process.env.GIT_SSL_CAINFO) env.GIT_SSL_CAINFO = process.env.GIT_SSL_CAINFO;
  return env;
}

// GIT_CONFIG_COUNT is how the header stays out of argv, GIT_CONFIG_GLOBAL (our own /dev/null) how
// the operator's config stays out; simple-git asks us to opt in to both.
function gitClient(dir: string, abort: AbortSignal, env: Record<string, string>) {
  return simpleGit({
    baseDir: dir,
    abort,
    unsafe: { allowUnsafeConfigEnvCount: true, allowUnsafeConfigPaths: true },
    allowEnvironment: ["GIT_SSL_CAINFO", "GIT_TERMINAL_PROMPT", "GIT_CONFIG_NOSYSTEM", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_COUNT", "GIT_CONFIG_KEY_0", "GIT_CONFIG_VALUE_0"],
  } as Parameters<typeof simpleGit>[0]).env(env);
}

function classify(err: unknown, request: BuildRequest) {
  const text = redact(err instanceof Error ? err.message : String(err));
  if (/not our ref|couldn't find remote ref|reference is not a tree|did not match any|unable to read tree/i.test(text)) {
    return userError(`Commit ${request.sha} could not be fetched from ${request.owner}/${request.repo}: ${firstLine(text)}`, {
      title: "Commit not found",
      hint: "The commit may have been force-pushed away. Push again to build the new head.",
    });
  }
  return transientError(`git fetch failed: ${firstLine(text)}`);
}

const mib = (n: number) => Math.round(n / 1024 / 1024);

function firstLine(text: string): string {
  return text.split("\n").find((l) => l.trim().length > 0)?.trim() ?? text;
}
