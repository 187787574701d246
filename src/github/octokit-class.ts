import { ProbotOctokit } from "probot";

/**
 * Probot's Octokit with retry (5xx) and throttling, changed in one way: Probot gives up on a
 * secondary rate limit, and GitHub documents waiting `retry-after` and trying again.
 */
export const MicroshipOctokit = ProbotOctokit.defaults({
  throttle: {
    onRateLimit: (retryAfter: number, options: { method: string; url: string; request: { retryCount: number } }, octokit: { log: { warn(m: string): void } }) => {
      octokit.log.warn(`Rate limit hit on ${options.method} ${options.url}; retrying in ${retryAfter} s`);
      return options.request.retryCount < 2;
    },
    onSecondaryRateLimit: (retryAfter: number, options: { method: string; url: string; request: { retryCount: number } }, octokit: { log: { warn(m: string): void } }) => {
      octokit.log.warn(`Secondary rate limit hit on ${options.method} ${options.url}; retrying in ${retryAfter} s`);
      return options.request.retryCount < 3;
    },
  },
});
