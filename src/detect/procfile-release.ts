import type { DetectContext } from "./context.ts";

/** deploy.release takes as much; a longer line is not a command anyone meant. */
const MAX_COMMAND = 1000;

/**
 * The Procfile's `release:` command (Heroku runs it once per deploy, before the new version takes
 * traffic: migrations, mostly). Lines, not a regex over the file; a command with control
 * characters or over the cap is passed over.
 */
export async function procfileRelease(ctx: DetectContext): Promise<string | null> {
  const text = await ctx.read("Procfile");
  if (!text) return null;
  for (const line of text.split("\n")) {
    if (!line.startsWith("release:")) continue;
    const command = line.slice("release:".length).trim();
    if (!command || command.length > MAX_COMMAND || /[\u0000-\u001f\u007f]/.test(command)) return null;
    return command;
  }
  return null;
}
