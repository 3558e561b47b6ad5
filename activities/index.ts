// Every activity the worker registers: a plain merge of the per-area factories. Add an area with
// one line. A factory that opens resources (pools, SSH connections) registers their cleanup with
// resources.onClose so the worker releases them on shutdown.
import type { ActivityDeps } from './deps';
import { createClusterActivities } from './cluster';

export type Closer = () => unknown;

export class ActivityResources {
  private readonly closers: Closer[] = [];

  onClose(fn: Closer): void {
    this.closers.push(fn);
  }

  /** Runs every cleanup, newest first, even when one fails; then reports the failures. */
  async close(): Promise<void> {
    const errors: unknown[] = [];
    for (const fn of this.closers.splice(0).reverse()) {
      try {
        await fn();
      } catch (e) {
        errors.push(e);
      }
    }
    if (errors.length > 0)
      throw new AggregateError(errors, `${errors.length} activity resource(s) failed to close`);
  }
}

export function createActivities(
  deps: ActivityDeps,
  _resources: ActivityResources = new ActivityResources(),
) {
  return {
    ...createClusterActivities(deps),
  };
}

/** What workflows proxy: `proxyActivities<Activities>(...)` with `import type`. */
export type Activities = ReturnType<typeof createActivities>;
