import { ProbotOctokit } from "probot";

type LimitHandler = (retryAfter: number, options: { method: string; url: string; request: { retryCount: number } }, octokit: { log: { warn(m: string): void } }) => boolean;

const onRateLimit: LimitHandler = (retryAfter, options, octokit) => {
  octokit.log.warn(`Rate limit hit on ${options.method} ${options.url}; retrying in ${retryAfter} s`);
  return options.request.retryCount < 2;
};

const onSecondaryRateLimit: LimitHandler = (retryAfter, options, octokit) => {
  octokit.log.warn(`Secondary rate limit hit on ${options.method} ${options.url}; retrying in ${retryAfter} s`);
  return options.request.retryCount < 3;
};

/**
 * Probot's Octokit, changed in two ways. Probot builds installation clients with throttling
 * switched off unless `enabled` is set, and its handler gives up on a secondary rate limit;
 * GitHub documents waiting `retry-after` and trying again, so we do.
 */
export const MicroshipOctokit = ProbotOctokit.defaults((options: Record<string, any>) => ({
  ...options,
  throttle: { ...(options.throttle ?? {}), enabled: true, onRateLimit, onSecondaryRateLimit },
}));
