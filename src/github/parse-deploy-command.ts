import { findCommandLine, wordsOf } from "./parse-rebuild-command.ts";

export type DeployCommand =
  | { kind: "deploy"; sha: string | null }
  | { kind: "rollback"; environment: string | null }
  /** The command with words we don't know: the reply says what it takes (without echoing them). */
  | { kind: "invalid"; command: "/deploy" | "/rollback"; usage: string };

const SHA = /^[0-9a-f]{7,40}$/;
// deploy.environments' own rule (deploy-config.ts), so any environment the config can name.
const ENVIRONMENT = /^[a-z0-9][a-z0-9-]{0,29}$/;

export const DEPLOY_USAGE = "`/deploy` deploys the pull request's head as it is now; `/deploy <sha>` (7 to 40 hex digits) deploys only if the head is still that commit.";
export const ROLLBACK_USAGE = "`/rollback` on a pull request goes back to its preview's previous image; `/rollback <environment>` (e.g. `/rollback production`) goes back to that environment's.";

/**
 * `/deploy [sha]` or `/rollback [environment]` as a line of the comment's text, found by the
 * same rules as `/rebuild` (not in code, quotes or comments). Bounded like it: a body longer
 * than GitHub allows is no command, and the checks of the words are anchored, linear regexes
 * on words of at most a line.
 */
export function parseDeployCommand(body: string): DeployCommand | null {
  return findCommandLine(body, asDeployCommand);
}

function asDeployCommand(text: string): DeployCommand | null {
  if (!text.startsWith("/deploy") && !text.startsWith("/rollback")) return null;
  const words = wordsOf(text);
  const [command, arg, ...extra] = words;
  if (command !== "/deploy" && command !== "/rollback") return null;
  const argOk = arg === undefined || arg.length <= 40;
  if (command === "/deploy") {
    const sha = arg?.toLowerCase();
    if (extra.length > 0 || !argOk || (sha !== undefined && !SHA.test(sha))) return { kind: "invalid", command, usage: DEPLOY_USAGE };
    return { kind: "deploy", sha: sha ?? null };
  }
  if (extra.length > 0 || !argOk || (arg !== undefined && !ENVIRONMENT.test(arg))) return { kind: "invalid", command, usage: ROLLBACK_USAGE };
  return { kind: "rollback", environment: arg ?? null };
}
