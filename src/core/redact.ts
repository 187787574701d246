/**
 * Scrubs credentials from any text before it reaches a log, a check run or a page.
 * Patterns cover GitHub token formats, Bearer/Basic headers, JWTs, PEM keys and
 * credentials embedded in URLs. Values registered at runtime (the webhook secret,
 * build secrets) are scrubbed by exact match too.
 *
 * Build output is hostile and runs through here line by line, so every pass is linear in the
 * text: the PEM and JWT shapes, which a backtracking regex matches in quadratic time (a line of
 * `eyJ-` repeated took 40 s), are found by the scanners below; the regexes left each start on a
 * literal and cannot run past the next start (`/`, whitespace or a word boundary stops them), so
 * V8 visits each character a bounded number of times; test/security/regex-redact.test.ts holds
 * them to that with 1 MiB inputs built against each one.
 */
const R = "[REDACTED]";

// Each pattern keeps what names the credential (a header name, a URL's user) and drops the value.
const GITHUB_TOKEN: [RegExp, string] = [/\b(?:gh[pousr]|github_pat)_[A-Za-z0-9_]{20,}\b/g, R];
const PATTERNS: [RegExp, string][] = [
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
  out = redactPem(out);
  out = out.replace(GITHUB_TOKEN[0], GITHUB_TOKEN[1]);
  out = redactJwt(out);
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

const isLabel = (c: number) => (c >= 65 && c <= 90) || c === 32; // [A-Z ]
const isWord = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const isB64url = (c: number) => isWord(c) || c === 45; // [A-Za-z0-9_-]

/** End of `-----BEGIN|END <label>PRIVATE KEY-----` whose label starts at `from`, or -1. */
function keyMarkerEnd(text: string, from: number): number {
  let i = from;
  while (i < text.length && isLabel(text.charCodeAt(i))) i++;
  // `[A-Z ]*PRIVATE KEY-----`: the label run can only end where the dashes begin.
  if (!text.startsWith("PRIVATE KEY", i - 11) || i - 11 < from || !text.startsWith("-----", i)) return -1;
  return i + 5;
}

/**
 * `-----BEGIN … PRIVATE KEY-----` through the first `-----END … PRIVATE KEY-----` after it. When
 * a header has no end marker after it, no later header has one either: the scan stops there
 * instead of searching to the end once per header.
 */
function redactPem(text: string): string {
  let begin = text.indexOf("-----BEGIN ");
  if (begin === -1) return text;
  let out = "";
  let copied = 0;
  while (begin !== -1) {
    const headerEnd = keyMarkerEnd(text, begin + 11);
    if (headerEnd === -1) {
      begin = text.indexOf("-----BEGIN ", begin + 1);
      continue;
    }
    let end = -1;
    for (let e = text.indexOf("-----END ", headerEnd); e !== -1 && end === -1; e = text.indexOf("-----END ", e + 1)) {
      end = keyMarkerEnd(text, e + 9);
    }
    if (end === -1) break;
    out += text.slice(copied, begin) + R;
    copied = end;
    begin = text.indexOf("-----BEGIN ", end);
  }
  return copied === 0 ? text : out + text.slice(copied);
}

function b64urlRunEnd(text: string, from: number): number {
  let i = from;
  while (i < text.length && isB64url(text.charCodeAt(i))) i++;
  return i;
}

/**
 * `\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b`, found in linear time. A
 * segment can't contain a dot, so the first two end where their run does; the last one ends at
 * the last word boundary of its run, as the regex would backtrack to.
 */
function redactJwt(text: string): string {
  let at = text.indexOf("eyJ");
  if (at === -1) return text;
  let out = "";
  let copied = 0;
  while (at !== -1) {
    if (at > 0 && isWord(text.charCodeAt(at - 1))) {
      at = text.indexOf("eyJ", at + 1);
      continue;
    }
    const end1 = b64urlRunEnd(text, at + 3);
    // Every other `eyJ` inside this run shares its end, and so fails or matches the same way.
    let next = end1;
    let match = -1;
    if (end1 - (at + 3) >= 8 && text.charCodeAt(end1) === 46) {
      const end2 = b64urlRunEnd(text, end1 + 1);
      next = end1 + 1;
      if (end2 - (end1 + 1) >= 8 && text.charCodeAt(end2) === 46) {
        const end3 = b64urlRunEnd(text, end2 + 1);
        for (let k = end3; k >= end2 + 9 && match === -1; k--) {
          const before = isWord(text.charCodeAt(k - 1));
          const after = k < text.length && isWord(text.charCodeAt(k));
          if (before !== after) match = k;
        }
      }
    }
    if (match !== -1) {
      out += text.slice(copied, at) + R;
      copied = match;
      next = match;
    }
    at = text.indexOf("eyJ", next);
  }
  return copied === 0 ? text : out + text.slice(copied);
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
