import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { simpleGit } from "simple-git";
import type { Checkout, SourceFetcher } from "../core/ports.ts";
import type { BuildRequest } from "../core/types.ts";
import { cancelledError, transientError, userError } from "../core/errors.ts";
import { redact } from "../log/redact.ts";

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
}

/**
 * Fetches exactly one sha, shallow, into a fresh temp dir that is always removed on failure.
 * The token travels in an `http.extraHeader` set through GIT_CONFIG_* variables: never in the
 * URL, never in argv, so it shows in no process listing, log or error.
 */
export class GitCheckout implements SourceFetcher {
  private readonly o: Required<GitCheckoutOptions>;

  constructor(options: GitCheckoutOptions) {
    this.o = { attempts: 3, ...options };
  }

  async checkout(request: BuildRequest, signal: AbortSignal): Promise<Checkout> {
    const dir = await mkdtemp(join(this.o.workDir, "checkout-"));
    const cleanup = () => rm(dir, { recursive: true, force: true });
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          await this.fetch(request, dir, signal);
          return { dir, cleanup };
        } catch (err) {
          if (signal.aborted) throw cancelledError("The build was cancelled during checkout.");
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

  private async fetch(request: BuildRequest, dir: string, signal: AbortSignal): Promise<void> {
    const token = await this.o.tokens.installationToken(request.installationId);
    const basic = Buffer.from(`x-access-token:${token}`).toString("base64");
    // A minimal environment: the parent's may carry git variables that change where or how we fetch.
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? dir,
      LANG: "C.UTF-8",
      GIT_TERMINAL_PROMPT: "0",
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_CONFIG_COUNT: "1",
      GIT_CONFIG_KEY_0: "http.extraHeader",
      GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}`,
    };
    if (process.env.GIT_SSL_CAINFO) env.GIT_SSL_CAINFO = process.env.GIT_SSL_CAINFO;
    // GIT_CONFIG_COUNT is how the header stays out of argv; simple-git asks us to opt in to it.
    const git = simpleGit({
      baseDir: dir,
      abort: signal,
      unsafe: { allowUnsafeConfigEnvCount: true },
      allowEnvironment: ["GIT_SSL_CAINFO", "GIT_TERMINAL_PROMPT", "GIT_CONFIG_NOSYSTEM", "GIT_CONFIG_COUNT", "GIT_CONFIG_KEY_0", "GIT_CONFIG_VALUE_0"],
    } as Parameters<typeof simpleGit>[0]).env(env);
    const remote = `${this.o.gitBaseUrl.replace(/\/+$/, "")}/${request.owner}/${request.repo}.git`;
    await git.init();
    await git.addRemote("origin", remote);
    // Fork heads live only under pull/N/head of the base repo; everything else is fetched by sha.
    const what = request.fetchRef ? `+${request.fetchRef}:refs/remotes/origin/pr-head` : request.sha;
    await git.raw(["fetch", "--depth=1", "--no-tags", "origin", what]);
    await git.raw(["-c", "advice.detachedHead=false", "checkout", "--detach", request.sha]);
  }
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

function firstLine(text: string): string {
  return text.split("\n").find((l) => l.trim().length > 0)?.trim() ?? text;
}
