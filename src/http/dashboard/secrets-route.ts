import type { Express, Request, Response } from "express";
import type { GitHubUsers, OpLog } from "../../core/ports.ts";
import { parseRepoKey, SECRET_LIMITS, SecretRuleError } from "../../core/secrets/secret-rules.ts";
import type { SecretRepo, SecretStore } from "../../core/secrets/secret-store.ts";
import type { Access } from "./access.ts";
import { checkedForm } from "./form-body.ts";
import type { Session } from "./session.ts";
import { renderMessage, renderPage } from "./views.ts";

/** A form with a 48 KiB value, percent-encoded (up to 3 bytes each), and the rest. */
const MAX_SECRET_FORM_BYTES = SECRET_LIMITS.valueBytes * 3 + 4096;

export interface SecretsDeps {
  access: Access;
  github: GitHubUsers;
  secrets: SecretStore;
  log: OpLog;
}

interface RepoRef extends SecretRepo {
  installationId: number;
}

/**
 * A repository's secrets on the dashboard: names and dates, a form to set one (the value is
 * write-only: never shown, never sent back) and Delete. Only for admins of the repository, as
 * GitHub says on each request (not cached: a removed admin loses it at once); forms carry the
 * session's CSRF token, as Tear down's do.
 */
export function addSecretsRoutes(app: Express, deps: SecretsDeps): void {
  app.get("/secrets", (req, res, next) => void index(deps, req, res).catch(next));
  app.get("/secrets/:owner/:repo", (req, res, next) => void page(deps, req, res).catch(next));
  app.post("/secrets/:owner/:repo/set", (req, res, next) => void change(deps, "set", req, res).catch(next));
  app.post("/secrets/:owner/:repo/delete", (req, res, next) => void change(deps, "delete", req, res).catch(next));
}

async function index(deps: SecretsDeps, req: Request, res: Response): Promise<void> {
  const session = deps.access.session(req, res);
  if (!session) return;
  const repos = [...(await deps.access.visible(session)).keys()].sort();
  renderPage(res, "secrets", { title: "Secrets", session, repos, repo: null });
}

async function page(deps: SecretsDeps, req: Request, res: Response, status = 200, error: string | null = null): Promise<void> {
  const session = deps.access.session(req, res);
  if (!session) return;
  const repo = await adminRepo(deps, session, req, res);
  if (!repo) return;
  const entries = await deps.secrets.list(repo);
  const done = req.query.done === "set" ? "The secret is set: the next builds and deploys get it." : req.query.done === "delete" ? "The secret is deleted." : null;
  renderPage(res, "secrets", { title: `Secrets of ${repo.owner}/${repo.repo}`, session, repo, entries, done, error, maxBytes: SECRET_LIMITS.valueBytes }, status);
}

async function change(deps: SecretsDeps, action: "set" | "delete", req: Request, res: Response): Promise<void> {
  const session = deps.access.session(req, res);
  if (!session) return;
  const form = checkedForm(req, session, MAX_SECRET_FORM_BYTES);
  if (!form) return renderMessage(res, 403, session, "Refused", "The form was not this session's (its CSRF token did not match), or it was too big. Reload the page and try again.");
  const repo = await adminRepo(deps, session, req, res);
  if (!repo) return;
  const name = form.get("name") ?? "";
  try {
    // A browser sends a textarea's lines with CRLF; the value is kept as it was typed.
    if (action === "set") await deps.secrets.set(repo, name, (form.get("value") ?? "").replaceAll("\r\n", "\n"), `dashboard:${session.login}`);
    else await deps.secrets.delete(repo, name);
  } catch (err) {
    if (!(err instanceof SecretRuleError)) throw err;
    return page(deps, req, res, 400, err.message);
  }
  deps.log.info({ owner: repo.owner, repo: repo.repo, repositoryId: repo.id, name: name.slice(0, 100), action, login: session.login }, "a secret changed from the dashboard");
  res.redirect(303, `/secrets/${encodeURIComponent(repo.owner)}/${encodeURIComponent(repo.repo)}?done=${action}`);
}

/** The repository of the path, if the user sees it and GitHub says they administer it; else a page saying no. */
async function adminRepo(deps: SecretsDeps, session: Session, req: Request, res: Response): Promise<RepoRef | null> {
  const parsed = parseRepoKey(`${String(req.params.owner)}/${String(req.params.repo)}`);
  const installationId = parsed ? (await deps.access.visible(session)).get(`${parsed.owner}/${parsed.repo}`.toLowerCase()) : undefined;
  if (!parsed || installationId === undefined) {
    renderMessage(res, 404, session, "Not found", "There is no repository here that you can see.");
    return null;
  }
  let admin = false;
  try {
    admin = (await deps.github.isAdmin?.(installationId, parsed.owner, parsed.repo, session.login)) ?? false;
  } catch (err) {
    deps.log.warn({ err, owner: parsed.owner, repo: parsed.repo }, "could not check a dashboard user's admin permission; treated as not admin");
  }
  if (!admin) {
    renderMessage(res, 403, session, "Refused", `Secrets need admin access to ${parsed.owner}/${parsed.repo}, and GitHub says you have less.`);
    return null;
  }
  const id = await repositoryId(deps, installationId, parsed.owner, parsed.repo);
  if (id === null) {
    renderMessage(res, 502, session, "GitHub did not answer", `GitHub did not say which repository ${parsed.owner}/${parsed.repo} is now, so its secrets were not touched. Try again in a moment.`);
    return null;
  }
  return { ...parsed, id, installationId };
}

/** Asked on every request, as the admin check is: a name can pass to another repository, its id never does. */
async function repositoryId(deps: SecretsDeps, installationId: number, owner: string, repo: string): Promise<number | null> {
  try {
    return (await deps.github.repositoryId?.(installationId, owner, repo)) ?? null;
  } catch (err) {
    deps.log.warn({ err, owner, repo }, "could not ask GitHub for a repository's id; its secrets page is refused");
    return null;
  }
}
