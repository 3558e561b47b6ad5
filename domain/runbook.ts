// Runbook inputs (validated the same way from the CLI, the UI's Start Workflow form and
// schedules) and the timeline every runbook returns.
import { z } from 'zod';
import { formatPath } from './inventory';

export const RUNBOOKS = {
  planned: 'planned-successover',
  emergency: 'emergency-recovery',
  provision: 'provision-replica',
  upgrade: 'blue-green-upgrade',
  topology: 'topology',
} as const;
export type RunbookName = (typeof RUNBOOKS)[keyof typeof RUNBOOKS];

/** The workflow id of a runbook on a cluster: one run per id, so starting twice joins or refuses. */
export const workflowIdFor = (runbook: RunbookName, cluster: string): string => `${runbook}/${cluster}`;
export const lockWorkflowId = (cluster: string): string => `cluster-lock/${cluster}`;

const clusterName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'expected a cluster name from the inventory');

export const PlannedSuccessoverInputSchema = z.strictObject({
  cluster: clusterName,
  /** The replica to promote; the best-ranked candidate when absent. */
  target: z.string().min(1).optional(),
  /** Overrides only the lag and long-transaction checks. */
  force: z.boolean().default(false),
  /** Return the plan, change nothing. */
  dryRun: z.boolean().default(false),
  maxLagSeconds: z.number().min(0).optional(),
  /** Bound on each wait for the target to apply the primary's position. */
  waitTimeoutSeconds: z.number().positive().default(10),
  /** Bound on SET GLOBAL read_only waiting for running statements. */
  readOnlyTimeoutSeconds: z.number().positive().default(5),
  killIntervalMs: z.number().int().min(10).max(10_000).default(100),
});
export type PlannedSuccessoverInput = z.input<typeof PlannedSuccessoverInputSchema>;
export type PlannedSuccessoverRequest = z.output<typeof PlannedSuccessoverInputSchema>;

/** Parses a runbook input; the error lists every problem with its field, as the inventory check does. */
export function parseInput<S extends z.ZodType>(schema: S, runbook: string, raw: unknown): z.output<S> {
  const r = schema.safeParse(raw, { reportInput: true });
  if (r.success) return r.data;
  const problems = r.error.issues.map((i) =>
    i.code === 'unrecognized_keys'
      ? `unknown field ${i.keys.map((k) => `"${k}"`).join(', ')}`
      : `${formatPath(i.path)}: ${i.message}`,
  );
  throw new InputError(`invalid ${runbook} input: ${problems.join('; ')}`);
}

export class InputError extends Error {
  override readonly name = 'InputError';
}

export interface TimelineStep {
  step: string;
  /** The host the step acted on, when it acted on one. */
  host?: string;
  start: string;
  end?: string;
  ms?: number;
  status: 'running' | 'done' | 'failed' | 'skipped' | 'compensated';
  detail?: string;
}

export interface TopologyNodeView {
  name: string;
  role: 'primary' | 'replica' | 'unknown';
  readOnly: boolean | null;
  source: string | null;
  ioRunning: string | null;
  sqlRunning: boolean | null;
  lagSeconds: number | null;
  gtid: string | null;
  version: string | null;
  error: string | null;
}

export interface PlannedCommandView {
  step: string;
  on: string;
  command: string;
}

export interface PlannedSuccessoverResult {
  ok: true;
  cluster: string;
  primary: string;
  target: string;
  dryRun: boolean;
  /** old primary read-only -> new primary writable and reachable through the router; null on dry runs. */
  blackoutMs: number | null;
  timeline: TimelineStep[];
  /** Every statement and command the run would send (dry run), or sent in its critical section. */
  plan: PlannedCommandView[];
  warnings: string[];
  forced: string[];
  ranking?: unknown;
  topology: TopologyNodeView[];
}
