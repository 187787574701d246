import type { Request, Response } from "express";
import type { BuildRecord } from "../../core/build.ts";
import type { GitHubUsers, OpLog } from "../../core/ports.ts";
import type { Store } from "../../core/store.ts";
import { TtlCache } from "./ttl-cache.ts";
import type { CookieSealer, Session } from "./session.ts";
import { renderMessage } from "./views.ts";

/** How long what GitHub said about a user is trusted before it is asked again. */
const FRESH_MS = 60_000;

export interface AccessDeps {
  github: GitHubUsers;
  store: Store;
  cookies: CookieSealer;
  log: OpLog;
}

/**
 * Who may see and do what, as GitHub says: the repositories listed for the user's token, and
 * write access from the collaborator-permission endpoint. Both are cached for a minute per user.
 */
export class Access {
  private readonly deps: AccessDeps;
  private readonly repos = new TtlCache<Map<string, number>>(FRESH_MS, 500);
  private readonly writers = new TtlCache<boolean>(FRESH_MS, 2000);

  constructor(deps: AccessDeps) {
    this.deps = deps;
  }

  /** The signed-in user, or null after sending them to sign in. */
  session(req: Request, res: Response): Session | null {
    const session = this.deps.cookies.session(req);
    if (!session) res.redirect(303, "/");
    return session;
  }

  /** "owner/repo" in lower case, to the installation it is seen through. */
  async visible(session: Session): Promise<Map<string, number>> {
    return this.repos.get(`${session.uid}:${session.token.slice(-8)}`, async () => {
      const list = await this.deps.github.repositories(session.token);
      return new Map(list.map((r) => [`${r.owner}/${r.repo}`.toLowerCase(), r.installationId]));
    });
  }

  /** The build, if the user may see its repository; otherwise a 404 that says no more than a missing build. */
  async build(session: Session, res: Response, id: string): Promise<BuildRecord | null> {
    const build = await this.deps.store.getBuild(id);
    const key = build ? `${build.request.owner}/${build.request.repo}`.toLowerCase() : "";
    if (!build || !(await this.visible(session)).has(key)) {
      renderMessage(res, 404, session, "Not found", "There is no build here that you can see.");
      return null;
    }
    return build;
  }

  async canWrite(session: Session, build: BuildRecord): Promise<boolean> {
    const { owner, repo, installationId } = build.request;
    return this.canWriteRepo(session, installationId, owner, repo);
  }

  /** Write access to a repository, asked through the installation the user sees it through. */
  async canWriteRepo(session: Session, installationId: number, owner: string, repo: string): Promise<boolean> {
    return this.writers.get(`${session.login}\n${owner}/${repo}`.toLowerCase(), async () => {
      try {
        return await this.deps.github.canWrite(installationId, owner, repo, session.login);
      } catch (err) {
        this.deps.log.warn({ err, owner, repo }, "could not check a dashboard user's permission; treated as read-only");
        return false;
      }
    });
  }
}
