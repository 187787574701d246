import { readFileSync } from "node:fs";
import type { Express, Request, Response } from "express";
import type { BuildRecord } from "../../core/build.ts";
import type { Store } from "../../core/store.ts";
import type { Access } from "./access.ts";
import type { DiskUse } from "./disk-use.ts";
import { durationChart, successChart, type DurationPoint, type RepoRate } from "./svg-charts.ts";
import { renderPage } from "./views.ts";

export interface HealthDeps {
  store: Store;
  access: Access;
  /** What builds run on; its description names the accelerator (kvm or tcg) for microVMs. */
  builder: { name: string; describe(): string } | null;
  disk: DiskUse | null;
}

/** The charts read the newest finished builds of the repositories the user sees: one store page. */
const CHART_BUILDS = 100;
const MAX_REPOS = 1000;
const MAX_BARS = 20;

const VERSION = String((JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version?: unknown }).version ?? "unknown");

export function addHealthRoute(app: Express, deps: HealthDeps): void {
  app.get("/health", (req, res, next) => void page(deps, req, res).catch(next));
}

/** Queue and running counts are the whole instance's; charts show only what the user may see. */
async function page(deps: HealthDeps, req: Request, res: Response): Promise<void> {
  const session = deps.access.session(req, res);
  if (!session) return;
  const repos = [...(await deps.access.visible(session)).keys()].sort().slice(0, MAX_REPOS);
  const [counts, finished, disk] = await Promise.all([
    deps.store.countByState(),
    deps.store.listBuilds({ repos, state: "completed", limit: CHART_BUILDS, offset: 0 }),
    deps.disk?.report() ?? null,
  ]);
  const ran = finished.filter((b) => b.startedAt !== null && b.completedAt !== null && b.conclusion !== "cancelled" && b.conclusion !== "skipped");
  renderPage(res, "health", {
    title: "Health",
    session,
    version: VERSION,
    queued: counts.queued ?? 0,
    running: counts.running ?? 0,
    builder: deps.builder ? { name: deps.builder.name, text: deps.builder.describe() } : null,
    disk,
    shown: ran.length,
    durationSvg: durationChart(durationPoints(ran), `Build durations of the last ${ran.length} finished builds`),
    rateSvg: successChart(successRates(ran), "Success rate per repository"),
  });
}

export function durationPoints(builds: readonly BuildRecord[]): DurationPoint[] {
  return builds.map((b) => ({
    at: b.completedAt!,
    ms: Math.max(0, b.completedAt! - b.startedAt!),
    ok: b.conclusion === "success",
    label: `${b.request.owner}/${b.request.repo} ${b.request.sha.slice(0, 7)}`,
  }));
}

export function successRates(builds: readonly BuildRecord[]): RepoRate[] {
  const by = new Map<string, RepoRate>();
  for (const b of builds) {
    const repo = `${b.request.owner}/${b.request.repo}`;
    const r = by.get(repo.toLowerCase()) ?? { repo, ok: 0, total: 0 };
    r.total++;
    if (b.conclusion === "success") r.ok++;
    by.set(repo.toLowerCase(), r);
  }
  return [...by.values()].sort((a, b) => b.total - a.total || a.repo.localeCompare(b.repo)).slice(0, MAX_BARS);
}
