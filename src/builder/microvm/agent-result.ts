import { z } from "zod";

/** The one line the guest agent writes on its result port (images/microvm/agent.sh). */
export const agentResultSchema = z.object({
  type: z.literal("result").optional(),
  success: z.boolean(),
  image_digest: z.string().regex(/^sha256:[0-9a-f]{64}$/).nullable(),
  error: z.string().nullable(),
  error_kind: z.enum(["user", "infra", "timeout"]).nullable().optional(),
  provenance: z.object({
    base_image_digest: z.string().nullable().optional(),
    builder_version: z.string().nullable().optional(),
  }).optional(),
  duration_ms: z.number().int().nonnegative(),
  build_ms: z.number().int().nonnegative().optional(),
  push_ms: z.number().int().nonnegative().optional(),
});

export type AgentResult = z.infer<typeof agentResultSchema>;

/** A result line, or why it is not one (an infra fault: our agent wrote it). */
export function parseAgentResult(line: string): { ok: true; value: AgentResult } | { ok: false; problem: string } {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return { ok: false, problem: "the result line is not JSON" };
  }
  const r = agentResultSchema.safeParse(json);
  if (!r.success) return { ok: false, problem: r.error.issues.map((i) => `${i.path.join(".") || "(line)"}: ${i.message}`).join("; ") };
  if (r.data.success && !r.data.image_digest) return { ok: false, problem: "a successful result without image_digest" };
  return { ok: true, value: r.data };
}
