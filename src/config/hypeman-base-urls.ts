import { z } from "zod";

/** More servers than this in HYPEMAN_BASE_URL is a mistake, and each one is read per build burst. */
export const MAX_HYPEMAN_SERVERS = 32;

/** The servers of HYPEMAN_BASE_URL, in order: one URL, or several separated by commas. */
export function hypemanBaseURLs(value: string): string[] {
  return value.split(",").map((s) => s.trim()).filter((s) => s !== "");
}

/** HYPEMAN_BASE_URL: each URL an http(s) one, none twice, at most MAX_HYPEMAN_SERVERS. */
export const hypemanBaseUrl = z
  .string()
  .max(8_192)
  .superRefine((value, ctx) => {
    const urls = hypemanBaseURLs(value);
    if (urls.length === 0) ctx.addIssue({ code: "custom", message: "expected a URL, or several separated by commas" });
    if (urls.length > MAX_HYPEMAN_SERVERS) ctx.addIssue({ code: "custom", message: `at most ${MAX_HYPEMAN_SERVERS} servers` });
    const seen = new Set<string>();
    for (const [i, url] of urls.slice(0, MAX_HYPEMAN_SERVERS).entries()) {
      const parsed = URL.canParse(url) ? new URL(url) : null;
      // The position, not the text: a URL may carry credentials, and messages reach the log.
      if (!parsed || (parsed.protocol !== "http:" && parsed.protocol !== "https:")) {
        ctx.addIssue({ code: "custom", message: `server ${i + 1}: expected an http:// or https:// URL` });
      } else if (seen.has(parsed.href)) {
        ctx.addIssue({ code: "custom", message: `server ${i + 1}: listed twice` });
      } else seen.add(parsed.href);
    }
  });
