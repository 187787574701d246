import type { BuildInput, LogLine } from "../core/builder.ts";
import { MicroshipError } from "../core/errors.ts";

// Shorter values (a "1", a "yes") would mask half the log and hide nothing worth hiding.
const MIN_MASKED = 4;
export const MASK = "***";

export interface SecretMask {
  text(s: string): string;
  line(l: LogLine): LogLine;
  /** The same error with every secret masked in what it says; the very error when nothing was. */
  error(err: MicroshipError): MicroshipError;
}

/**
 * Masks the values a build was given to keep: its secrets and the password it pushes with. A
 * build can print any of them (`cat /run/secrets/x`, a verbose login), and the log, the tail and
 * the messages made from them go to a check run. The longest value goes first, so one secret
 * that contains another is masked whole.
 */
export function secretMask(input: Pick<BuildInput, "secrets" | "registryAuth">): SecretMask {
  const values = [...input.secrets.map((s) => s.value), input.registryAuth?.password ?? ""];
  const secrets = [...new Set(values.filter((v) => v.length >= MIN_MASKED))].sort((a, b) => b.length - a.length);
  const text = (s: string): string => (secrets.some((v) => s.includes(v)) ? secrets.reduce((t, v) => t.replaceAll(v, MASK), s) : s);
  return {
    text,
    line: (l) => {
      const masked = text(l.text);
      // A masked line loses its colours: its runs were counted over the secret.
      return masked === l.text ? l : { ts: l.ts, stream: l.stream, text: masked };
    },
    error: (err) => {
      const message = text(err.message);
      const title = err.title === undefined ? undefined : text(err.title);
      const hint = err.hint === undefined ? undefined : text(err.hint);
      if (message === err.message && title === err.title && hint === err.hint) return err;
      // The cause goes: it said what the message said, unmasked.
      return new MicroshipError(err.kind, message, { title, hint, location: err.location });
    },
  };
}
