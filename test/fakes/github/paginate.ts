/** GitHub's page size: `per_page` defaults to 30 and is silently capped at 100. */
export const MAX_PER_PAGE = 100;

/**
 * One page of `items` as GitHub pages REST lists: `page` from 1, and a Link header with next,
 * last, first and prev where they exist (Octokit's paginate follows `next`).
 */
export function paginate<T>(items: T[], params: Record<string, unknown>, ctx: { baseUrl: string; path: string; query: Record<string, string> }): { items: T[]; headers: Record<string, string> } {
  const perPage = Math.min(MAX_PER_PAGE, Math.max(1, Number(params.per_page ?? 30) || 30));
  const page = Math.max(1, Number(params.page ?? 1) || 1);
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const link = (n: number, rel: string) => {
    const url = new URL(`${ctx.baseUrl}/api/v3${ctx.path}`);
    for (const [k, v] of Object.entries(ctx.query)) url.searchParams.set(k, v);
    url.searchParams.set("per_page", String(perPage));
    url.searchParams.set("page", String(n));
    return `<${url}>; rel="${rel}"`;
  };
  const links: string[] = [];
  if (page < last) links.push(link(page + 1, "next"), link(last, "last"));
  if (page > 1) links.push(link(1, "first"), link(Math.min(page - 1, last), "prev"));
  return { items: items.slice((page - 1) * perPage, page * perPage), headers: links.length > 0 ? { link: links.join(", ") } : {} };
}
