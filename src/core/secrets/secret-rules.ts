import { MicroshipError } from "../errors.ts";

/** GitHub's limits for Actions secrets, so a secret that fits there fits here. */
export const SECRET_LIMITS = { nameChars: 100, perRepo: 100, valueBytes: 48 * 1024 } as const;

/** A secret that breaks a rule: the operator's (or the user's) to fix, said plainly. */
export class SecretRuleError extends MicroshipError {
  constructor(message: string) {
    super("user", message, { title: "Secret refused" });
    this.name = "SecretRuleError";
  }
}

const isUpper = (c: number) => c >= 65 && c <= 90;
const isDigit = (c: number) => c >= 48 && c <= 57;
const UNDERSCORE = 95;

/**
 * The name's problem, or null when it is one: A-Z, 0-9 and '_', not starting with a digit, no
 * GITHUB_ prefix, at most 100 characters. A loop over the characters, not a regex: names come
 * from operators and pages, and this costs one pass whatever they send.
 */
export function secretNameProblem(name: string): string | null {
  if (name.length === 0) return "a secret's name can't be empty";
  if (name.length > SECRET_LIMITS.nameChars) return `a secret's name is at most ${SECRET_LIMITS.nameChars} characters`;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (isUpper(c) || c === UNDERSCORE || (i > 0 && isDigit(c))) continue;
    return i === 0 && isDigit(c)
      ? "a secret's name can't start with a digit"
      : "a secret's name may hold only A-Z, 0-9 and '_' (upper case, as environment variables are named)";
  }
  if (name.startsWith("GITHUB_")) return "a secret's name can't start with GITHUB_ (GitHub's own variables use it)";
  return null;
}

export function checkSecretName(name: string): void {
  const problem = secretNameProblem(name);
  if (problem) throw new SecretRuleError(problem);
}

export function checkSecretValue(value: string): void {
  if (value.length === 0) throw new SecretRuleError("a secret's value can't be empty");
  const bytes = Buffer.byteLength(value, "utf8");
  if (bytes > SECRET_LIMITS.valueBytes) throw new SecretRuleError(`a secret's value is at most 48 KiB (${SECRET_LIMITS.valueBytes} bytes); this one is ${bytes}`);
}

/** How a repository's secrets are keyed: `owner/repo` as GitHub names it, case folded (GitHub's names ignore case). */
export function repoKey(owner: string, repo: string): string {
  return `${owner}/${repo}`.toLowerCase();
}

/** `owner/repo` as an operator types it, or null. Bounded and checked by a loop, like the names. */
export function parseRepoKey(text: string): { owner: string; repo: string } | null {
  if (text.length > 200) return null;
  const slash = text.indexOf("/");
  if (slash <= 0 || slash !== text.lastIndexOf("/") || slash === text.length - 1) return null;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const ok = isUpper(c) || isDigit(c) || (c >= 97 && c <= 122) || c === 45 || c === 46 || c === UNDERSCORE || c === 47;
    if (!ok) return null;
  }
  return { owner: text.slice(0, slash), repo: text.slice(slash + 1) };
}
