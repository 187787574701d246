import type { Express, NextFunction, Request, Response } from "express";
import type { BuildService } from "../../core/build-service.ts";
import type { Deployer, DeploymentReporter } from "../../core/deployer.ts";
import type { GitHubUsers, OpLog } from "../../core/ports.ts";
import type { Store } from "../../core/store.ts";
import { Access } from "./access.ts";
import { addAuthRoutes } from "./auth-routes.ts";
import { addBuildView } from "./build-view-route.ts";
import { addDeploymentsRoute } from "./deployments-route.ts";
import { addRollbackRoute, type DashboardRollbacks } from "./rollback-route.ts";
import { addRedeployRoute } from "./redeploy-route.ts";
import { addSleepRoutes } from "./sleep-route.ts";
import { dataDiskUse } from "./data-disk-use.ts";
import { addHealthRoute } from "./health-route.ts";
import { addListRoute } from "./list-route.ts";
import { addLogEvents } from "./log-events.ts";
import { CookieSealer, SESSION_COOKIE } from "./session.ts";
import { addStaticFiles } from "./static-files.ts";
import { renderPage } from "./views.ts";
import type { SecretStore } from "../../core/secrets/secret-store.ts";
import { addSecretsRoutes } from "./secrets-route.ts";

export interface DashboardDeps {
  /** Null when the App's OAuth credentials are not configured: the dashboard is off. */
  github: GitHubUsers | null;
  service: Pick<BuildService, "rebuild" | "cancel">;
  store: Store;
  /** The log links' key; the session key is derived from it. */
  linkSecret: string | Buffer;
  /** microship's own URL; a function is asked at each use, since with PORT=0 the port is known only once listening. */
  publicUrl: string | (() => string);
  log: OpLog;
  maxLogStreams?: number;
  /** How often the first page of the builds list refreshes itself (tests shorten it). */
  listRefreshMs?: number;
  /** The deployments page's source; without it the page says nothing deploys. */
  deployer?: Deployer | null;
  deployments?: DeploymentReporter | null;
  /** Rollback from the deployments page; without it the page offers none. */
  rollbacks?: DashboardRollbacks | null;
  /** The health page's builder line and disk use (of the data directory's caches and logs). */
  builder?: { name: string; describe(): string } | null;
  dataDir?: string | null;
  /** The repositories' secrets, for their admins; without it the dashboard has no secrets pages. */
  secrets?: SecretStore | null;
}

/**
 * The dashboard: builds behind a GitHub sign-in. Registered before the capability-link routes,
 * which it leaves to themselves (a link with ?exp&token falls through to them).
 */
export function addDashboardRoutes(app: Express, deps: DashboardDeps): void {
  addStaticFiles(app);
  const { publicUrl } = deps;
  const ownUrl = typeof publicUrl === "function" ? publicUrl : () => publicUrl;
  if (!deps.github) {
    app.get("/", (_req, res) => renderPage(res, "off", { title: "Dashboard off", session: null, callbackUrl: `${ownUrl()}/login/callback` }));
    return;
  }
  const cookies = new CookieSealer(deps.linkSecret, ownUrl());
  const access = new Access({ github: deps.github, store: deps.store, cookies, log: deps.log });
  addAuthRoutes(app, { github: deps.github, cookies, publicUrl: ownUrl, log: deps.log });
  addListRoute(app, { store: deps.store, access, listRefreshMs: deps.listRefreshMs });
  addBuildView(app, { store: deps.store, access, service: deps.service, log: deps.log, maxDownloads: deps.maxLogStreams ?? 32 });
  const deploymentsDeps = { deployer: deps.deployer ?? null, deployments: deps.deployments ?? null, access, log: deps.log, rollbacks: deps.rollbacks ?? null };
  addDeploymentsRoute(app, deploymentsDeps);
  if (deploymentsDeps.rollbacks) addRollbackRoute(app, { ...deploymentsDeps, rollbacks: deploymentsDeps.rollbacks });
  if (deploymentsDeps.rollbacks) addRedeployRoute(app, { ...deploymentsDeps, rollbacks: deploymentsDeps.rollbacks });
  addSleepRoutes(app, deploymentsDeps);
  addHealthRoute(app, { store: deps.store, access, builder: deps.builder ?? null, disk: deps.dataDir ? dataDiskUse(deps.dataDir) : null });
  if (deps.secrets) addSecretsRoutes(app, { access, github: deps.github, secrets: deps.secrets, log: deps.log });
  addLogEvents(app, { store: deps.store, access, log: deps.log, maxStreams: deps.maxLogStreams ?? 32 });
  // GitHub refusing the user's token (revoked, or the app uninstalled) ends the session, not the page.
  app.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if ((err as { status?: unknown } | null)?.status !== 401 || res.headersSent) return next(err);
    cookies.clear(res, SESSION_COOKIE);
    res.redirect(303, "/");
  });
}
