// Runbook inputs (validated the same way from the CLI, the UI's Start Workflow form and
// schedules) and the timeline every runbook returns.
import { z } from 'zod';
import { lazySchema } from './lazySchema';
import { formatPath, HostSchema } from './inventory';
import { PROVISION_METHODS, type ProvisionMethod } from './provision/method';
import type { SalvageReport } from './salvage/report';
import type { TopologyNodeView } from './topology';
import { WindowSchema } from './window';

export { WindowSchema } from './window';

/** Each runbook's name: its Runbook search attribute and the start of its workflow id (workflows/api.ts). */
export const RUNBOOKS = {
  planned: 'planned-successover',
  emergency: 'emergency-recovery',
  provision: 'provision-replica',
  upgrade: 'blue-green-upgrade',
  rejoin: 'rejoin',
  topology: 'topology',
} as const;
export type RunbookName = (typeof RUNBOOKS)[keyof typeof RUNBOOKS];

const clusterName = lazySchema(() =>
  z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'expected a cluster name from the inventory'),
);

export const PlannedSuccessoverInputSchema = lazySchema(() =>
  z.strictObject({
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
    /** Upgrade window ("Sun 02:00-04:00 UTC"): started outside it, the run waits until it opens. */
    window: WindowSchema.optional(),
    /** Only these hosts may become the primary (drain-host passes its plan's candidates). */
    candidates: z.array(z.string().min(1)).min(1, 'expected at least one candidate host').optional(),
    /** No host on this machine (inventory `machine`, else its address) may become the primary. */
    avoidMachine: z.string().min(1).optional(),
  }),
);
export type PlannedSuccessoverInput = z.input<typeof PlannedSuccessoverInputSchema>;
export type PlannedSuccessoverRequest = z.output<typeof PlannedSuccessoverInputSchema>;

export const RejoinInputSchema = lazySchema(() =>
  z.strictObject({
    cluster: clusterName,
    /** The fenced old primary (or any read-only node) to take back as a replica of the primary. */
    host: z.string().min(1),
    /**
     * Make it the standby of a master-master pair again (the primary replicates from it too).
     * Absent: a pair when the host still names the primary as its source and the primary
     * replicates from no one (what a pair's side looks like after an emergency recovery).
     */
    pair: z.boolean().optional(),
    /** Bound on the wait for the host to apply the primary's position (pair only). */
    waitTimeoutSeconds: z.number().positive().default(60),
    /** Wait this long for another run holding the cluster lock to end (0: refuse at once). */
    lockWaitSeconds: z.number().min(0).default(0),
  }),
);
export type RejoinInput = z.input<typeof RejoinInputSchema>;
export type RejoinRequest = z.output<typeof RejoinInputSchema>;

/** Who or what asked for an emergency recovery: recorded in the run's input and timeline. */
export const TriggerSourceSchema = lazySchema(() =>
  z.strictObject({
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
  }),
);
export type TriggerSource = z.output<typeof TriggerSourceSchema>;

export const EmergencyRecoveryInputSchema = lazySchema(() =>
  z.strictObject({
    cluster: clusterName,
    /** The primary suspected dead; inferred from the replicas' sources when absent. */
    primary: z.string().min(1).optional(),
    reason: z.string().max(2000).optional(),
    source: TriggerSourceSchema.default({ kind: 'ui' }),
    /** Acknowledge a recovery inside the anti-flapping window (policy.recoveryBlockSeconds). */
    ackFlapping: z.boolean().default(false),
    /** Worker probes of the primary that must fail; default policy.detector.probes. */
    probes: z.number().int().min(1).max(100).optional(),
    // 100 ms: a dead primary refuses at once, and the replicas' IO threads must agree anyway.
    probeIntervalMs: z.number().int().min(50).max(60_000).default(100),
    /** How long replicas may take to notice the dead primary before the alarm counts as false. */
    confirmTimeoutSeconds: z.number().min(0).max(600).default(15),
    /** Overrides policy.approvalTimeoutSeconds when approval is required. */
    approvalTimeoutSeconds: z.number().int().min(1).optional(),
  }),
);
export type EmergencyRecoveryInput = z.input<typeof EmergencyRecoveryInputSchema>;
export type EmergencyRecoveryRequest = z.output<typeof EmergencyRecoveryInputSchema>;

/** What a trigger (webhook, detector, CLI) gets back from starting an emergency recovery. */
export interface StartedRecovery {
  workflowId: string;
  runId: string;
  /** False when an alert joined a recovery that was already running. */
  started: boolean;
}

const hostName = lazySchema(() =>
  z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'expected a host name from the inventory'),
);

export const ProvisionReplicaInputSchema = lazySchema(() =>
  z.strictObject({
    cluster: clusterName,
    /** The host to provision: a host of the cluster's inventory whose server is empty (or `wipe`). */
    host: hostName,
    /**
     * A host not yet in the inventory, as its inventory entry without the name (`host` names it):
     * the worker checks it (no clash, its SSH host key proven by a login) and writes it to its
     * inventory file before the preflight; a refusal takes it out again. Secret-free by design.
     */
    newHost: HostSchema.omit({ name: true }).optional(),
    /** The server to copy from; the healthy replica lagging least when absent. */
    donor: hostName.optional(),
    /** Default by data size (domain/provision/method.ts). */
    method: z.enum(PROVISION_METHODS).optional(),
    /** The primary may be the donor (named, or when no replica is healthy). */
    allowPrimaryDonor: z.boolean().default(false),
    /** Drop what the target holds (schemas, GTID state, a stopped replication) instead of refusing. */
    wipe: z.boolean().default(false),
    /** Compare every table with another replica at one GTID position after the catch-up. */
    verify: z.enum(['checksum', 'none']).default('checksum'),
    /** The lag at which the new replica counts as caught up. */
    maxLagSeconds: z.number().min(0).default(1),
    catchUpTimeoutSeconds: z.number().positive().default(3600),
    /** Bound on one attempt of the copy (a retry starts it again). */
    copyTimeoutSeconds: z
      .number()
      .positive()
      .default(6 * 3600),
    /** How long to wait for the cluster lock (held by another runbook) before starting replication. */
    lockTimeoutSeconds: z.number().min(0).default(900),
  }),
);
export type ProvisionReplicaInput = z.input<typeof ProvisionReplicaInputSchema>;
export type ProvisionReplicaRequest = z.output<typeof ProvisionReplicaInputSchema>;

export const BlueGreenUpgradeInputSchema = lazySchema(() =>
  z.strictObject({
    cluster: clusterName,
    /** The replica that becomes the new primary: provisioned by the run when its server is empty. */
    greenHost: hostName,
    /** The version green must run ("11.4" matches 11.4.x); refused before the soak otherwise. */
    targetVersion: z
      .string()
      .regex(/^\d+(\.\d+){0,2}$/, 'expected a version like 11.4 or 8.0.36')
      .optional(),
    /** How long green replicates under watch before the cutover (a durable timer). */
    soakSeconds: z.number().min(0).default(3600),
    /** How often the soak checks green's replication. */
    soakCheckSeconds: z.number().min(1).default(60),
    /** Lag above this during the soak stops the run. */
    soakMaxLagSeconds: z.number().min(0).default(30),
    /** After the cutover, how long blue stays a replica of green, ready for `rollback`. */
    rollbackWindowSeconds: z
      .number()
      .min(0)
      .default(24 * 3600),
    /** The cutover waits for this window ("Sun 02:00-04:00 UTC"). */
    window: WindowSchema.optional(),
    /** Ask for the `approve` update before the cutover even when the policy does not. */
    requireApproval: z.boolean().default(false),
    approvalTimeoutSeconds: z.number().int().min(1).optional(),
    /** Passed to the provisioning of green. */
    donor: hostName.optional(),
    method: z.enum(PROVISION_METHODS).optional(),
    wipe: z.boolean().default(false),
    /** Passed to both successovers (cutover and rollback). */
    waitTimeoutSeconds: z.number().positive().default(10),
  }),
);
export type BlueGreenUpgradeInput = z.input<typeof BlueGreenUpgradeInputSchema>;
export type BlueGreenUpgradeRequest = z.output<typeof BlueGreenUpgradeInputSchema>;

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
  /** A master-master pair: replication left running both ways between primary and target. */
  pair: boolean;
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
  /** The failed primary's binary log salvaged into the new primary, or why not (issue 17). */
  salvage?: SalvageReport;
  /** What the old primary committed that the new one lacks, or why that is not known yet. */
  lost?: unknown;
  /** The workflow that fences the old primary and reports its lost transactions when it answers. */
  fenceWatch?: string;
  warnings: string[];
  timeline: TimelineStep[];
  topology: TopologyNodeView[];
}

/** The new replica compared with another at one GTID position, or why it was not. */
export interface ProvisionChecksumReport {
  reference: string | null;
  position: string | null;
  equal: boolean | null;
  tables: { name: string; reference: string | null; host: string | null; equal: boolean; rows: number }[];
  /** Why no comparison was made (verify: none, or no other healthy replica). */
  skipped?: string;
}

export interface ProvisionReplicaResult {
  ok: true;
  cluster: string;
  host: string;
  /** When the input gave newHost: whether this run wrote it to the worker's inventory file. */
  inventory?: { added: boolean; inventoryFile: string };
  donor: string;
  /** The primary the new replica replicates from. */
  primary: string;
  method: ProvisionMethod;
  methodReason: string;
  /** Bytes streamed from the donor; rows in the dump (logical only). */
  bytes: number;
  rows: number | null;
  copyMs: number;
  mbPerSecond: number | null;
  rowsPerSecond: number | null;
  /** The copy's phases (inspect, stream, prepare, ...) with their durations. */
  phases: { name: string; ms: number }[];
  /** The backup's GTID position, where replication started. */
  gtidPosition: string;
  /** Start of replication -> caught up. */
  catchUpMs: number;
  checksum: ProvisionChecksumReport;
  warnings: string[];
  timeline: TimelineStep[];
  topology: TopologyNodeView[];
}

/** What a blue/green upgrade returns. */
export interface BlueGreenUpgradeResult {
  ok: true;
  cluster: string;
  /** The primary before the run. */
  blue: string;
  green: string;
  outcome: 'finalized' | 'rollback-window-ended' | 'rolled-back';
  /** Who ended the rollback window, when someone did. */
  decidedBy?: string;
  greenVersion: string | null;
  blueVersion: string | null;
  /** The provisioning child run, or why green needed none. */
  provisioning: string;
  findings: { check: string; severity: string; subject: string; message: string }[];
  soak: { seconds: number; checks: number };
  cutover: { workflowId: string; blackoutMs: number | null };
  rollback: { workflowId: string; blackoutMs: number | null } | null;
  /** The primary at the end. */
  primary: string;
  /** Hosts to decommission: blue after a finalized upgrade. */
  decommission: string[];
  warnings: string[];
  timeline: TimelineStep[];
}

/** What a rejoin returns; a host holding what the primary lacks is a Refused failure instead. */
export interface RejoinResult {
  ok: true;
  cluster: string;
  host: string;
  primary: string;
  /** The host is the primary's master-master standby again (replication both ways). */
  pair: boolean;
  /** Why it was (or was not) taken for a pair. */
  pairReason: string;
  /** What the host had that the primary lacked: nothing, or the run would have refused. */
  lost: string;
  warnings: string[];
  timeline: TimelineStep[];
  topology: TopologyNodeView[];
}
