// A runbook whose input gives an upgrade window waits for it: started outside it (by hand, by
// `schedule trigger`, or by a schedule catching up late) the run sleeps on a durable timer until
// the window opens, and the UI says until when. An operator may override with `skipWindow`.
import { condition, setHandler } from '@temporalio/workflow';
import type { TimelineStep } from '../domain/runbook';
import { formatWindow, nextWindow, parseWindow } from '../domain/window';
import { skipWindowUpdate, WAITING_FOR_WINDOW, type SkipWindowRequest } from './api';
import type { Runbook } from './runbook';

// Defined in ./api with the rest of the contract; re-exported for the tests that read it here.
export { skipWindowUpdate, type SkipWindowRequest } from './api';

export interface WaitForWindowOptions {
  /** What waits, for the details: "the cutover"; default "the run". */
  what?: string;
}

/**
 * Returns at once when `window` is absent or open now (workflow time, so replays agree);
 * otherwise enters phase waiting-for-window and sleeps until it opens or skipWindow arrives.
 * Call it before taking the cluster lock: a waiting run must not block other runbooks.
 */
export async function waitForWindow(
  run: Runbook,
  window: string | undefined,
  opts: WaitForWindowOptions = {},
): Promise<void> {
  let waiting = false;
  let skip: SkipWindowRequest | undefined;
  setHandler(
    skipWindowUpdate,
    (req) => {
      skip = req ?? {};
      waiting = false;
      return `window skipped${skip.by ? ` by ${skip.by}` : ''}: ${opts.what ?? 'the run'} starts now`;
    },
    {
      validator: (req) => {
        if (req?.by !== undefined && (typeof req.by !== 'string' || req.by.length > 200))
          throw new Error('by: expected a name of at most 200 characters');
        if (req?.comment !== undefined && (typeof req.comment !== 'string' || req.comment.length > 2000))
          throw new Error('comment: expected a text of at most 2000 characters');
        if (waiting) return;
        if (!window) throw new Error('this run has no window to skip');
        if (skip) throw new Error(`the window was already skipped${skip.by ? ` by ${skip.by}` : ''}`);
        throw new Error(`this run is not waiting for its window ${window}`);
      },
    },
  );
  if (!window) return;

  const w = parseWindow(window);
  const spec = formatWindow(w);
  const now = new Date();
  const next = nextWindow(w, now);
  const opensAt = next.opensAt.toISOString();
  const closesAt = next.closesAt.toISOString();
  run.window = { spec, opensAt, closesAt, waiting: !next.openNow };
  if (next.openNow) {
    run.record([
      {
        step: 'window',
        start: now.toISOString(),
        end: now.toISOString(),
        ms: 0,
        status: 'done',
        detail: `inside the window ${spec} (open until ${closesAt})`,
      },
    ]);
    return;
  }

  run.enterPhase(WAITING_FOR_WINDOW, `waiting for the window ${spec} until ${opensAt}`);
  const entry: TimelineStep = {
    step: 'wait for window',
    start: now.toISOString(),
    status: 'running',
    detail: `${spec}: ${opts.what ?? 'the run'} starts at ${opensAt}`,
  };
  run.record([entry]);
  waiting = true;
  const skipped = await condition(() => skip !== undefined, next.opensAt.getTime() - now.getTime(), {
    summary: `wait for the window ${spec} (opens ${opensAt})`,
  });
  waiting = false;
  run.window = { ...run.window, waiting: false, ...(skip?.by ? { skippedBy: skip.by } : {}) };
  entry.end = new Date().toISOString();
  entry.ms = Date.parse(entry.end) - Date.parse(entry.start);
  if (skipped && skip) {
    entry.status = 'skipped';
    entry.detail = `window ${spec} skipped by ${skip.by ?? 'an operator'}${skip.comment ? `: ${skip.comment}` : ''} (it would have opened at ${opensAt})`;
  } else {
    entry.status = 'done';
    entry.detail = `window ${spec} opened at ${opensAt}`;
  }
}
