import { sleepable, type Deployer } from "../../core/deployer.ts";

const FLASH: Record<string, string> = {
  sleep: "Put to sleep.",
  wake: "Woken up.",
  waking: "Waking up: it is still starting, and this page shows it running once it answers.",
};

/** What the deployments page needs for Sleep and Wake: whether the deployer has them, and what the last one did. */
export function sleepView(deployer: Deployer | null, done: unknown): { canSleep: boolean; sleepFlash: string | null } {
  return { canSleep: sleepable(deployer), sleepFlash: typeof done === "string" ? (FLASH[done] ?? null) : null };
}
