/** Who made a deployment, as GitHub's `deployment` payload says it. */
export interface DeploymentAuthor {
  creator?: { login?: string; type?: string } | null;
  performed_via_github_app?: { id?: number; slug?: string } | null;
}

/**
 * This GitHub App itself: its id (APP_ID) and its slug (asked once of `GET /app`), so a
 * deployment it made itself is told from one a person or another tool made. Its bot user is
 * `{slug}[bot]`.
 */
export class AppIdentity {
  private readonly id: number | null;
  private readonly fetchSlug: () => Promise<string | null>;
  private slug: Promise<string | null> | null = null;

  constructor(id: number | null, fetchSlug: () => Promise<string | null>) {
    this.id = id;
    this.fetchSlug = fetchSlug;
  }

  /** Made by this app: through it (performed_via_github_app), or by its bot user. */
  async madeIt(d: DeploymentAuthor): Promise<boolean> {
    const via = d.performed_via_github_app;
    if (typeof via?.id === "number" && this.id !== null) return via.id === this.id;
    if (d.creator?.type !== "Bot" || typeof d.creator.login !== "string") return false;
    // A slug that could not be read (GitHub down) is tried again on the next event.
    this.slug ??= this.fetchSlug().catch(() => {
      this.slug = null;
      return null;
    });
    const slug = await this.slug;
    return slug !== null && d.creator.login.toLowerCase() === `${slug}[bot]`.toLowerCase();
  }
}
