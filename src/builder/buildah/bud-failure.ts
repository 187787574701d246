import type { LogLine } from "../../core/builder.ts";
import { infraError, userError, type MicroshipError } from "../../core/errors.ts";

// Output that means our side is broken (storage, disk, the runtime), not the repo's build.
const INFRA = /no space left on device|database is locked|error (creating|mounting|unmounting) (the )?(build )?(container|layer|overlay)|mount(ing)? .*(permission denied|operation not permitted)|storage.*corrupt|layer not known|error locating a working container/i;
const PULL = /(pulling|initializing source|reading manifest|resolving).*(manifest unknown|not found|unauthorized|denied|no such host|connection refused|i\/o timeout)|short-name .* did not resolve/i;

/**
 * Turns a failed `buildah bud` into a typed error. A failing step is the user's fault, and the
 * message names it (`STEP 3/7: RUN npm ci`) with its exit code; a base image that can't be
 * pulled is too; broken storage is ours.
 */
export function budFailure(tail: readonly LogLine[], exitCode: number | null): MicroshipError {
  const texts = tail.map((l) => l.text);
  // Multi-stage builds prefix each step with its stage: "[1/2] STEP 8/9: RUN npm run build".
  const step = lastMatch(texts, STEP)?.replace(/^\[\d+\/\d+\] /, "") ?? steppedError(texts);
  const error = lastMatch(texts, /^(Error|error)[: ]/) ?? `buildah exited with ${exitCode}`;
  if (INFRA.test(error) || texts.some((t) => INFRA.test(t))) {
    return infraError(`The builder's storage failed: ${error}`, { title: "Builder storage failed", hint: "This is a fault of the build host, not of the repository; the operator has been told." });
  }
  if (PULL.test(error) || (step && /: FROM /i.test(step) && /manifest|not found|unauthorized|denied|pull/i.test(error))) {
    return userError(`The base image could not be pulled: ${error}`, {
      title: "Base image not found",
      hint: "Check that the FROM line (or `base_image` in .github/microship.yml) names an image the builder can pull.",
    });
  }
  const code = /exit status (\d+)/.exec(error)?.[1] ?? (exitCode === null ? null : String(exitCode));
  if (!step) return userError(error, { title: "Build failed", hint: "The log shows what failed." });
  const instruction = step.replace(/^STEP (\d+\/\d+: )?/, "");
  return userError(`${step} failed${code ? ` with exit code ${code}` : ""}.`, {
    title: "Build step failed",
    hint: /^RUN /i.test(instruction)
      ? `Fix the command \`${instruction.slice(4)}\`; the lines just above the failure in the log say why.`
      : `Fix \`${instruction}\` in the Dockerfile; the log says why.`,
  });
}

const STEP = /^(\[\d+\/\d+\] )?STEP \d+\/\d+: /;

/** buildah's own error names the step when no STEP line survived in the tail. */
function steppedError(texts: readonly string[]): string | null {
  const m = lastMatch(texts, /building at STEP "/);
  const instruction = m && /building at STEP "(.+)"/.exec(m)?.[1];
  return instruction ? `STEP ${instruction}` : null;
}

function lastMatch(texts: readonly string[], re: RegExp): string | null {
  for (let i = texts.length - 1; i >= 0; i--) if (re.test(texts[i]!)) return texts[i]!;
  return null;
}
