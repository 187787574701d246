import type { Express, Request, Response } from "express";
import type { GitHubUsers, OpLog } from "../../core/ports.ts";
import { checkedForm } from "./form-body.ts";
import { CookieSealer, SESSION_COOKIE, SESSION_SECONDS, STATE_COOKIE, STATE_SECONDS, cookie, newToken, sameToken, type Session } from "./session.ts";
import { renderMessage, renderPage } from "./views.ts";

export interface AuthDeps {
  github: GitHubUsers;
  cookies: CookieSealer;
  /** Asked at each sign-in: with PORT=0 the port is known only once listening. */
  publicUrl: string | (() => string);
  log: OpLog;
}

/** GitHub's codes and states are short; anything longer is not from GitHub. */
const PARAM = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * Sign-in through the GitHub App's OAuth web flow. The state is random, kept sealed in a
 * ten-minute cookie, and must come back unchanged; the code is exchanged once, server-side.
 */
export function addAuthRoutes(app: Express, deps: AuthDeps): void {
  const callbackUrl = () => `${typeof deps.publicUrl === "function" ? deps.publicUrl() : deps.publicUrl}/login/callback`;

  app.get("/", (req, res) => {
    const session = deps.cookies.session(req);
    if (session) return void res.redirect(303, "/builds");
    renderPage(res, "signin", { title: "Sign in", session: null, error: null });
  });

  app.get("/login", (_req, res) => {
    const state = newToken();
    deps.cookies.set(res, STATE_COOKIE, { state, exp: Math.floor(Date.now() / 1000) + STATE_SECONDS }, STATE_SECONDS);
    res.set("cache-control", "no-store").redirect(303, deps.github.authorizeUrl(state, callbackUrl()));
  });

  app.get("/login/callback", (req, res) => callback(deps, callbackUrl(), req, res));

  app.post("/logout", (req, res) => {
    const session = deps.cookies.session(req);
    if (session && !checkedForm(req, session)) return renderMessage(res, 403, session, "Refused", "The form was not this session's (its CSRF token did not match). Reload the page and try again.");
    deps.cookies.clear(res, SESSION_COOKIE);
    res.redirect(303, "/");
  });
}

async function callback(deps: AuthDeps, callbackUrl: string, req: Request, res: Response): Promise<void> {
  const { code, state, error } = req.query;
  const kept = deps.cookies.open<{ state: string; exp: number }>(STATE_COOKIE, cookie(req, STATE_COOKIE));
  deps.cookies.clear(res, STATE_COOKIE);
  const refuse = (text: string) => renderPage(res, "signin", { title: "Sign in", session: null, error: text }, 400);
  if (typeof error === "string") return refuse("GitHub did not sign you in (the request was denied or cancelled).");
  if (!kept || !sameToken(state, kept.state)) return refuse("This sign-in did not start here, or took too long. Try again.");
  if (typeof code !== "string" || !PARAM.test(code)) return refuse("GitHub's answer had no usable code. Try again.");
  try {
    const token = await deps.github.exchangeCode(code, callbackUrl);
    const user = await deps.github.viewer(token);
    const session: Session = { login: user.login, uid: user.id, token, csrf: newToken(), exp: Math.floor(Date.now() / 1000) + SESSION_SECONDS };
    deps.cookies.set(res, SESSION_COOKIE, session, SESSION_SECONDS);
    deps.log.info({ login: user.login }, "dashboard sign-in");
    res.redirect(303, "/builds");
  } catch (err) {
    deps.log.warn({ err }, "dashboard sign-in failed");
    refuse("GitHub refused the sign-in. Try again.");
  }
}
