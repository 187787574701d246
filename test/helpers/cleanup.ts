/**
 * Runs every cleanup step even when an earlier one fails, then reports all failures. A cleanup
 * that stops at its first error leaves servers and child processes holding the test process
 * open, and the run hangs instead of failing.
 */
export async function cleanupAll(...steps: Array<(() => unknown) | null | undefined>): Promise<void> {
  const errors: unknown[] = [];
  for (const step of steps) {
    if (!step) continue;
    try {
      await step();
    } catch (err) {
      errors.push(err);
    }
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, `${errors.length} cleanup steps failed`);
}
