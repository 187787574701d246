import type { LogLine } from "../../core/builder.ts";
import type { BuildOutcome, BuildRecord } from "../../core/build.ts";
import type { ChecksReporter, LinkSigner, RunRef } from "../../core/ports.ts";
import { annotationsFor, ANNOTATIONS_PER_REQUEST, chunk } from "./annotations.ts";
import { renderLogTail } from "./render-log.ts";
import { renderRunningSummary, renderSummary } from "./render-summary.ts";
import { reportDeployCheck } from "./deploy-check-run.ts";

/** `background`: may wait behind any other write of the installation (live log tails). */
export interface RequestHints {
  background?: boolean;
}

/** The little of Octokit the reporter needs: installation-authenticated `request`. */
export interface GitHubRequester {
  request(route: string, params?: Record<string, unknown>, hints?: RequestHints): Promise<{ data: any }>;
}

export type ClientFor = (installationId: number) => Promise<GitHubRequester>;

export const CHECK_NAME = "microship";

export const REBUILD_ACTIONS = [
  { label: "Rebuild", identifier: "rebuild", description: "Build this commit again" },
  { label: "Rebuild, no cache", identifier: "rebuild-no-cache", description: "Build again without the layer cache" },
];

function checkName(app: string | null): string {
  return app ? `${CHECK_NAME}/${app}` : CHECK_NAME;
}

/** GitHub's page size cap for check runs, and its cap of 1,000 runs of one name per suite. */
const PER_PAGE = 100;
const MAX_PAGES = 10;

/** The only writer of check runs and PR comments. */
export class CheckRunReporter implements ChecksReporter {
  private readonly clientFor: ClientFor;
  private readonly links: LinkSigner;

  constructor(clientFor: ClientFor, links: LinkSigner) {
    this.clientFor = clientFor;
    this.links = links;
  }

  /**
   * Adopts the build's run if one exists, else creates it queued. A crash between GitHub's answer
   * and our store write must not leave a second run and the first stuck `queued`: the run carries
   * the build id as `external_id`, so it can be found again.
   */
  async queued(build: BuildRecord): Promise<number> {
    const gh = await this.clientFor(build.request.installationId);
    const existing = await this.findRun(gh, build, CHECK_NAME);
    if (existing !== null) return existing;
    const { data } = await gh.request("POST /repos/{owner}/{repo}/check-runs", {
      ...repoOf(build),
      name: CHECK_NAME,
      head_sha: build.request.sha,
      status: "queued",
      external_id: build.id,
      details_url: this.links.detailsUrl(build.id),
      output: { title: "Queued", summary: `Waiting for a builder. [Build page](${this.links.detailsUrl(build.id)}).` },
    });
    return Number(data.id);
  }

  async started(run: RunRef, builder: string): Promise<number> {
    const gh = await this.clientFor(run.build.request.installationId);
    const details = this.links.detailsUrl(run.build.id);
    const body = {
      status: "in_progress",
      started_at: new Date().toISOString(),
      details_url: details,
      output: { title: "Building", summary: renderRunningSummary(run.build, builder, "starting", details) },
    };
    const known = run.checkRunId ?? (await this.findRun(gh, run.build, checkName(run.app)));
    if (known !== null) {
      await gh.request("PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}", { ...repoOf(run.build), check_run_id: known, ...body });
      return known;
    }
    const { data } = await gh.request("POST /repos/{owner}/{repo}/check-runs", {
      ...repoOf(run.build),
      name: checkName(run.app),
      head_sha: run.build.request.sha,
      external_id: run.build.id,
      ...body,
    });
    return Number(data.id);
  }

  /**
   * The id of this build's run named `name` on its sha, found by `external_id`, or null. Every
   * page is read (GitHub caps a page at 100): a busy sha may hold many runs of our name.
   */
  private async findRun(gh: GitHubRequester, build: BuildRecord, name: string): Promise<number | null> {
    for (let page = 1; page <= MAX_PAGES; page++) {
      const { data } = await gh.request("GET /repos/{owner}/{repo}/commits/{ref}/check-runs", {
        ...repoOf(build),
        ref: build.request.sha,
        check_name: name,
        filter: "all",
        per_page: PER_PAGE,
        page,
      });
      const runs = (data?.check_runs ?? []) as { id: number; external_id: string | null }[];
      const mine = runs.find((r) => r.external_id === build.id);
      if (mine) return Number(mine.id);
      if (runs.length < PER_PAGE || page * PER_PAGE >= Number(data?.total_count ?? 0)) return null;
    }
    return null;
  }

  async progress(run: RunRef & { checkRunId: number }, tail: LogLine[], phase: string): Promise<void> {
    const gh = await this.clientFor(run.build.request.installationId);
    const details = this.links.detailsUrl(run.build.id);
    await gh.request("PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}", {
      ...repoOf(run.build),
      check_run_id: run.checkRunId,
      output: {
        title: `Building: ${phase}`,
        summary: renderRunningSummary(run.build, null, phase, details),
        text: renderLogTail(tail, "Log (live tail)"),
      },
    }, { background: true });
  }

  async completed(run: RunRef & { checkRunId: number }, outcome: BuildOutcome, tail: LogLine[], detailsUrl: string): Promise<void> {
    const gh = await this.clientFor(run.build.request.installationId);
    const [first = [], ...rest] = chunk(annotationsFor(outcome), ANNOTATIONS_PER_REQUEST);
    const output = {
      title: outcome.title.slice(0, 255),
      summary: renderSummary(run.build, outcome, detailsUrl),
      text: renderLogTail(tail, "Log (tail)"),
    };
    await gh.request("PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}", {
      ...repoOf(run.build),
      check_run_id: run.checkRunId,
      status: "completed",
      conclusion: outcome.conclusion,
      completed_at: new Date().toISOString(),
      details_url: detailsUrl,
      output: first.length > 0 ? { ...output, annotations: first } : output,
      actions: outcome.conclusion === "skipped" ? [] : REBUILD_ACTIONS,
    });
    for (const annotations of rest) {
      await gh.request("PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}", {
        ...repoOf(run.build),
        check_run_id: run.checkRunId,
        output: { title: output.title, summary: output.summary, annotations },
      });
    }
    // The deploy is a check of its own, so a failed deploy leaves a good build green.
    if (outcome.deploy) {
      await reportDeployCheck(gh, run, outcome.deploy, detailsUrl, (name) => this.findRun(gh, run.build, name));
    }
  }

  /** Acknowledges a `/rebuild` comment. */
  async react(installationId: number, owner: string, repo: string, commentId: number, content: "rocket" | "eyes" | "confused"): Promise<void> {
    const gh = await this.clientFor(installationId);
    await gh.request("POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions", { owner, repo, comment_id: commentId, content });
  }

  async reply(installationId: number, owner: string, repo: string, issueNumber: number, body: string): Promise<void> {
    const gh = await this.clientFor(installationId);
    await gh.request("POST /repos/{owner}/{repo}/issues/{issue_number}/comments", { owner, repo, issue_number: issueNumber, body });
  }

  async comment(build: BuildRecord, body: string): Promise<void> {
    if (!build.request.pr) return;
    const gh = await this.clientFor(build.request.installationId);
    await gh.request("POST /repos/{owner}/{repo}/issues/{issue_number}/comments", { ...repoOf(build), issue_number: build.request.pr.number, body });
  }
}

function repoOf(build: BuildRecord): { owner: string; repo: string } {
  return { owner: build.request.owner, repo: build.request.repo };
}
