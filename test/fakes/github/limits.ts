/**
 * GitHub's documented limits that JSON Schema can't state: the output fields are capped at
 * 65,535 and GitHub counts bytes of UTF-8 there, while JSON Schema's maxLength counts characters.
 */
export const OUTPUT_FIELD_BYTES = 65_535;

export function checkRunLimits(body: unknown): string[] {
  const problems: string[] = [];
  if (!body || typeof body !== "object") return problems;
  const b = body as { output?: Record<string, unknown>; actions?: unknown[]; status?: string; conclusion?: string };
  for (const field of ["title", "summary", "text"]) {
    const v = b.output?.[field];
    if (typeof v === "string" && Buffer.byteLength(v, "utf8") > OUTPUT_FIELD_BYTES) {
      problems.push(`output.${field} is ${Buffer.byteLength(v, "utf8")} bytes; GitHub accepts at most ${OUTPUT_FIELD_BYTES}`);
    }
  }
  const annotations = b.output?.annotations;
  if (Array.isArray(annotations) && annotations.length > 50) problems.push(`output.annotations has ${annotations.length} items; at most 50 per request`);
  if (Array.isArray(b.actions)) {
    if (b.actions.length > 3) problems.push(`actions has ${b.actions.length} items; at most 3`);
    for (const [i, a] of (b.actions as Record<string, unknown>[]).entries()) {
      if (String(a.label ?? "").length > 20) problems.push(`actions[${i}].label is longer than 20 characters`);
      if (String(a.identifier ?? "").length > 20) problems.push(`actions[${i}].identifier is longer than 20 characters`);
      if (String(a.description ?? "").length > 40) problems.push(`actions[${i}].description is longer than 40 characters`);
    }
  }
  if (b.conclusion !== undefined && b.status !== undefined && b.status !== "completed") {
    problems.push("conclusion is given but status is not completed");
  }
  return problems;
}

/**
 * A deployment status's description: "The maximum description length is 140 characters" (GitHub's
 * REST docs; the spec states it only on the response's `description`, not the request's).
 */
export function deploymentStatusLimits(body: unknown): string[] {
  const d = (body as { description?: unknown } | null)?.description;
  return typeof d === "string" && [...d].length > 140 ? [`description is ${[...d].length} characters; GitHub accepts at most 140`] : [];
}
