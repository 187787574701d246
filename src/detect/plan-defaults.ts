import type { BuildPlan } from "../core/types.ts";
import type { DetectContext } from "./context.ts";

export const GENERATED_DOCKERIGNORE = [".git", "node_modules", "__pycache__", ".venv", ".env*", ""].join("\n");

/** The parts of a plan every provider fills the same way, from the app's config. */
export function planBase(ctx: DetectContext): Pick<BuildPlan, "app" | "root" | "buildArgs" | "env" | "imageTemplate" | "timeoutSeconds"> {
  return {
    app: ctx.config.name,
    root: ctx.root,
    buildArgs: { ...(ctx.config.build_args ?? {}) },
    env: { ...(ctx.config.env ?? {}) },
    imageTemplate: ctx.config.image ?? null,
    timeoutSeconds: ctx.config.timeout ?? null,
  };
}

export async function dockerignoreFor(ctx: DetectContext): Promise<string | null> {
  return (await ctx.exists(".dockerignore")) ? null : GENERATED_DOCKERIGNORE;
}
