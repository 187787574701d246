/**
 * Scrubs credentials from any text before it reaches a log, a check run or a page.
 * Patterns cover GitHub token formats, Bearer/Basic headers, JWTs, PEM keys and
 * credentials embedded in URLs. Values registered at runtime (the webhook secret,
 * build secrets) are scrubbed by exact match too.
 */
const R = "[REDACTED]";

// Each pattern keeps what names the credential (a header name, a URL's user) and drops the value.
const PATTERNS: [RegExp, string][] = [
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g, R],
  [/\b(?:gh[pousr]|github_pat)_[A-Za-z0-9_]{20,}\b/g, R],
  [/\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b/g, R],
  [/((?:authorization|proxy-authorization)\s*[:=]\s*"?(?:bearer|basic|token)\s+)[^\s"',;]+/gi, `$1${R}`],
  [/(\b(?:bearer|token)\s+)[A-Za-z0-9._~+\/=-]{16,}/gi, `$1${R}`],
  [/(\/\/[^\/\s:@]+:)[^@\s\/]+(@)/g, `$1${R}$2`],
];

const known = new Set<string>();

/** Registers a literal secret value so every later scrub removes it. */
export function registerSecret(value: string | undefined | null): void {
  if (value && value.length >= 6) known.add(value);
}

export function redact(text: string): string {
  let out = text;
  for (const secret of known) {
    if (out.includes(secret)) out = out.split(secret).join(R);
  }
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/** Deep-scrubs any value pino is about to write. */
export function redactValue(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return redact(value);
  if (depth > 6 || value === null || typeof value !== "object") return value;
  if (value instanceof Error) {
    return { type: value.name, message: redact(value.message), stack: value.stack ? redact(value.stack) : undefined };
  }
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = /^(authorization|token|password|secret|private_?key|cookie)$/i.test(k) ? R : redactValue(v, depth + 1);
  }
  return out;
}
