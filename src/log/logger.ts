import { pino, type Logger, type DestinationStream } from "pino";
import { redact, redactValue } from "../core/redact.ts";

export type { Logger };

/**
 * The operator's log. Build output meant for users goes to the store and the check run,
 * never here. Every string is scrubbed on the way out (see redact.ts).
 */
export function createLogger(level: string = "info", destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { name: "microship" },
      redact: {
        paths: ["req.headers.authorization", "headers.authorization", "req.headers.cookie", "headers.cookie", "*.token", "token", "privateKey", "*.privateKey"],
        censor: "[REDACTED]",
      },
      formatters: {
        log: (obj) => redactValue(obj) as Record<string, unknown>,
      },
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map((a) => (typeof a === "string" ? redact(a) : a)) as Parameters<typeof method>);
        },
      },
    },
    destination,
  );
}
