// The worker end of the workflows' `runMetrics` sink (workflows/interceptors.ts): counts runs and
// observes the durations they report. Not called during replay (the SDK's default).
import type { InjectedSinks } from '@temporalio/worker';
import type { RunMetricsSinks } from '../workflows/interceptors';
import { blackoutMs, recoveryMs, runsEnded, runsStarted } from './registry';

export function runMetricsSinks(): InjectedSinks<RunMetricsSinks> {
  return {
    runMetrics: {
      started: {
        fn: (_info, run) => runsStarted.inc({ ...run }),
        callDuringReplay: false,
      },
      ended: {
        fn: (_info, run, outcome, durations) => {
          runsEnded.inc({ ...run, outcome });
          if (durations.blackoutMs !== undefined)
            blackoutMs.observe({ cluster: run.cluster }, durations.blackoutMs);
          if (durations.recoveryMs !== undefined)
            recoveryMs.observe({ cluster: run.cluster }, durations.recoveryMs);
        },
        callDuringReplay: false,
      },
    },
  };
}
