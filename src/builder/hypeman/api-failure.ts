import { APIConnectionError, APIError } from "@onkernel/hypeman";
import { infraError, isMicroshipError, userError, type MicroshipError } from "../../core/errors.ts";

export interface ApiContext {
  /** The server, as the operator configured it (HYPEMAN_BASE_URL). */
  server: string;
  /** Whether an API key was configured at all. */
  hasKey: boolean;
}

const OURS = "This is a problem with microship's Hypeman setup, not with the repository; the operator has been told.";

/**
 * What a failed call to the Hypeman API means for the build. Only a source the server refuses is
 * the repository's fault; everything else is ours. The API key never appears in a message.
 */
export function apiFailure(err: unknown, doing: string, ctx: ApiContext): MicroshipError {
  if (isMicroshipError(err)) return err;
  if (err instanceof APIConnectionError) {
    return infraError(`The Hypeman server at ${ctx.server} could not be reached while ${doing}: ${causeText(err)}.`, {
      title: "Hypeman unreachable", hint: `${OURS} Check HYPEMAN_BASE_URL and that the server is up.`, cause: err,
    });
  }
  if (err instanceof APIError) {
    const { code, message } = body(err);
    if (err.status === 401 || err.status === 403) {
      return infraError(
        ctx.hasKey
          ? `The Hypeman server at ${ctx.server} refused microship's API key (${err.status}${message ? `: ${message}` : ""}).`
          : `The Hypeman server at ${ctx.server} requires an API key, and HYPEMAN_API_KEY is not set.`,
        {
          title: "Hypeman refused the API key",
          hint: "Set HYPEMAN_API_KEY to a token the server accepts: a JWT signed (HS256) with the server's JWT_SECRET, with `sub`, `iat` and an `exp` still in the future.",
          cause: err,
        },
      );
    }
    if (err.status === 400 && code === "invalid_source") {
      return userError(`The Hypeman server refused the source archive: ${message ?? "invalid source"}.`, {
        title: "Source refused by the builder",
        hint: "Keep build outputs, dependencies and large data out of the build context with a .dockerignore.",
        cause: err,
      });
    }
    return infraError(`The Hypeman server answered ${err.status ?? "an error"} while ${doing}${code ? ` (${code})` : ""}: ${message ?? err.message}`, {
      title: "Hypeman request failed", hint: OURS, cause: err,
    });
  }
  return infraError(`Talking to the Hypeman server failed while ${doing}: ${err instanceof Error ? err.message : String(err)}`, {
    title: "Hypeman request failed", hint: OURS, cause: err,
  });
}

/** The status of a failed API call, or null when it never got an answer. */
export function apiStatus(err: unknown): number | null {
  return err instanceof APIError && typeof err.status === "number" ? err.status : null;
}

function body(err: APIError): { code: string | null; message: string | null } {
  const e = err.error as { code?: unknown; message?: unknown } | undefined;
  return {
    code: typeof e?.code === "string" ? e.code : null,
    message: typeof e?.message === "string" ? e.message : null,
  };
}

function causeText(err: APIConnectionError): string {
  const cause = err.cause as { message?: string; cause?: { code?: string; message?: string } } | undefined;
  return cause?.cause?.code ?? cause?.cause?.message ?? cause?.message ?? err.message;
}
