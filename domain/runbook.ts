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

/** Who or what asked for an emergency recovery: recorded in the run's input and timeline. */
export const TriggerSourceSchema = z.strictObject({
  kind: z.enum(['cli', 'ui', 'webhook', 'detector', 'schedule']),
  /** The alerting system, for webhooks: alertmanager, grafana, pagerduty, generic, orchestrator. */
  system: z.string().max(100).optional(),
  /** When the trigger reached successover (ISO): the timeline's first entry. */
  receivedAt: z.iso.datetime({ offset: true }).optional(),
  alert: z
    .strictObject({
      name: z.string().max(300).optional(),
      fingerprint: z.string().max(300).optional(),
      startsAt: z.string().max(100).optional(),
      labels: z.record(z.string(), z.string().max(1000)).optional(),
    })
    .optional(),
});
export type TriggerSource = z.output<typeof TriggerSourceSchema>;

export const EmergencyRecoveryInputSchema = z.strictObject({
  cluster: clusterName,
  /** The primary suspected dead; inferred from the replicas' sources when absent. */
  primary: z.string().min(1).optional(),
  reason: z.string().max(2000).optional(),
  source: TriggerSourceSchema.default({ kind: 'ui' }),
  /** Acknowledge a recovery inside the anti-flapping window (policy.recoveryBlockSeconds). */
  ackFlapping: z.boolean().default(false),
  /** Worker probes of the primary that must fail; default policy.detector.probes. */
  probes: z.number().int().min(1).max(100).optional(),
  probeIntervalMs: z.number().int().min(50).max(60_000).default(200),
  /** How long replicas may take to notice the dead primary before the alarm counts as false. */
  confirmTimeoutSeconds: z.number().min(0).max(600).default(15),
  /** Overrides policy.approvalTimeoutSeconds when approval is required. */
  approvalTimeoutSeconds: z.number().int().min(1).optional(),
});
export type EmergencyRecoveryInput = z.input<typeof EmergencyRecoveryInputSchema>;
export type EmergencyRecoveryRequest = z.output<typeof EmergencyRecoveryInputSchema>;

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

/** What an emergency recovery returns: a recovery, or a false alarm that changed nothing. */
export interface EmergencyRecoveryResult {
  ok: true;
  cluster: string;
  outcome: 'recovered' | 'false-alarm';
  /** The primary found dead (or suspected, for a false alarm). */
  primary: string;
  /** The promoted replica; null for a false alarm. */
  newPrimary: string | null;
  /** Trigger arrival (or run start) -> new primary writable with the traffic; null for a false alarm. */
  recoveryMs: number | null;
  reason: string;
  /** Who said what about the primary (worker probes, replicas' IO threads). */
  evidence: { from: string; says: string; detail: string }[];
  ranking?: unknown;
  errant?: unknown;
  fencing?: unknown;
  catchUp?: unknown;
  /** What the old primary committed that the new one lacks, or why that is not known yet. */
  lost?: unknown;
  /** The workflow that fences the old primary and reports its lost transactions when it answers. */
  fenceWatch?: string;
  warnings: string[];
  timeline: TimelineStep[];
  topology: TopologyNodeView[];
}
