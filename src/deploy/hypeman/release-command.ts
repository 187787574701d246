import { APIError, type Hypeman } from "@onkernel/hypeman";
import type { Instance } from "@onkernel/hypeman/resources/instances/instances";
import type { DeployInput } from "../../core/deployer.ts";
import { userError } from "../../core/errors.ts";
import { pollUntil } from "./poll-until.ts";

/** Lines of the release's output copied to the build log, and the length of each. */
const MAX_LINES = 200;
const MAX_LINE = 2_000;

export interface ReleaseRun {
  /** The one-off instance's name (Hypeman's rule) and tags (so a crash-left one is found and removed). */
  name: string;
  tags: Record<string, string>;
  pollMs: number;
  timeoutMs: number;
}

/**
 * `deploy.release` on Hypeman. Its SDK has no exec, so the command runs as a one-off instance
 * of the new image: entrypoint `/bin/sh -c`, the command as its CMD, the deploy's env, no
 * health check, never restarted. When it has exited, its last output lines go to the build log
 * and the instance is deleted; a non-zero exit (or no exit in time) fails the deploy before
 * any new instance starts, so the old version keeps serving.
 */
export async function runRelease(client: Hypeman, input: DeployInput & { release: string }, o: ReleaseRun): Promise<void> {
  input.log(`Running the release command: ${input.release}`);
  const instance = await client.instances.create({
    name: o.name, image: input.imageRef, env: input.env, entrypoint: ["/bin/sh", "-c"], cmd: [input.release],
    health_check: { type: "none" }, restart_policy: { policy: "never" }, tags: o.tags,
  }, { signal: input.signal });
  try {
    const { value, result } = await pollUntil(
      () => client.instances.get(instance.id, { signal: input.signal }),
      (i) => (exited(i) ? true : undefined),
      { pollMs: o.pollMs, timeoutMs: o.timeoutMs, signal: input.signal },
    );
    await copyOutput(client, instance.id, input);
    if (result === null) throw userError(`The release command \`${input.release}\` did not finish in ${Math.round(o.timeoutMs / 1000)} s. The previous version keeps serving.`, { title: "Release failed" });
    const code = value.exit_code ?? null;
    if (code !== 0) {
      const why = code === null ? value.exit_message || `it ended in state ${value.state}` : `exit code ${code}${value.exit_message ? ` (${value.exit_message})` : ""}`;
      throw userError(`The release command \`${input.release}\` failed with ${why}. The previous version keeps serving.`, {
        title: "Release failed",
        hint: "deploy.release runs with /bin/sh -c in the new image, with the app's environment; make it exit 0.",
      });
    }
    input.log("The release command succeeded.");
  } finally {
    await removeQuietly(client, instance.id);
  }
}

const exited = (i: Instance) => (i.exit_code !== null && i.exit_code !== undefined) || i.state === "Stopped" || i.state === "Shutdown" || i.state === "Unknown";

/** The release's last lines into the build log; output that cannot be read is said, not fatal. */
async function copyOutput(client: Hypeman, id: string, input: DeployInput): Promise<void> {
  try {
    const stream = await client.instances.logs(id, { source: "app", tail: MAX_LINES }, { signal: input.signal });
    let n = 0;
    for await (const line of stream) {
      if (++n > MAX_LINES) break;
      input.log(`release | ${String(line).slice(0, MAX_LINE)}`);
    }
  } catch {
    input.log("(the release command's output could not be read)");
  }
}

async function removeQuietly(client: Hypeman, id: string): Promise<void> {
  try {
    await client.instances.delete(id);
  } catch (err) {
    // Gone already is fine; anything else leaves it tagged for the next deploy to remove.
    if (!(err instanceof APIError && err.status === 404)) return;
  }
}
