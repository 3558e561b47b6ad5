// The contract between the workflows and everything that talks to them: the CLI, the webhook
// receiver, triggers, schedules, activities and parent workflows. Workflow ids, queries, signals,
// updates, search attributes and failure types are defined here once, so a caller and a workflow
// cannot disagree on a spelling.
//
// Workflows themselves are started by their function reference (`client.workflow.start(
// plannedSuccessover, ...)`, `executeChild(provisionReplica, ...)`): the SDK sends the function's
// name, and the compiler checks the arguments. No workflow type is written as a string.
//
// Workflow code imports this module: it may only import @temporalio/workflow, @temporalio/common
// and pure domain modules, never a workflow (they import it) nor anything doing I/O.
import {
  defineSearchAttributeKey,
  SearchAttributeType,
  type SearchAttributePair,
  type SearchAttributeUpdatePair,
} from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { FleetActor, FleetOutcome, FleetRunbook, FleetStatus } from '../domain/fleet/input';
import { RUNBOOKS, type RunbookName, type TimelineStep } from '../domain/runbook';

// ---------------------------------------------------------------------------------------------
// Workflow ids. One running execution per id is Temporal's guarantee, so an id says what may not
// run twice: one runbook per cluster, one provisioning per host, one detector per cluster.

/**
 * The workflows that serve the runbooks without being one: the value of their Runbook search
 * attribute (to find them in the UI) and the first part of their workflow id.
 */
export const SUPPORT_WORKFLOWS = {
  clusterLock: 'cluster-lock',
  detector: 'detector',
  fenceWatch: 'fence-watch',
  /** Child runs holding a runbook's long waits, so the runbook's history stays small. */
  provisionCatchUp: 'provision-catch-up',
  blueGreenSoak: 'blue-green-soak',
} as const;
export type SupportWorkflowName = (typeof SUPPORT_WORKFLOWS)[keyof typeof SUPPORT_WORKFLOWS];

/** The workflow id of a runbook on a cluster: one run per id, so starting twice joins or refuses. */
export const workflowIdFor = (runbook: RunbookName, cluster: string): string => `${runbook}/${cluster}`;

/** One provisioning per host: a second start for the same host joins or is refused, other hosts run. */
export const provisionWorkflowId = (cluster: string, host: string): string =>
  `${workflowIdFor(RUNBOOKS.provision, cluster)}/${host}`;

/** A look at the cluster (workflows/topology.ts) changes nothing: any number may run, each its own id. */
export const topologyWorkflowId = (cluster: string, unique: string | number): string =>
  `${workflowIdFor(RUNBOOKS.topology, cluster)}/${unique}`;

/** The cluster lock (workflows/clusterLock.ts): starting it is the atomic test-and-set. */
export const lockWorkflowId = (cluster: string): string => `${SUPPORT_WORKFLOWS.clusterLock}/${cluster}`;

/** One detector per cluster, whoever starts it (the worker, the CLI). */
export const detectorId = (cluster: string): string => `${SUPPORT_WORKFLOWS.detector}/${cluster}`;

/**
 * One fence watch per old primary, apart from the recovery's id: a new alert on the cluster
 * starts a new recovery instead of joining the watch.
 */
export const fenceWatchId = (cluster: string, host: string): string =>
  `${SUPPORT_WORKFLOWS.fenceWatch}/${cluster}/${host}`;

// ---------------------------------------------------------------------------------------------
// Search attributes, all Keyword (temporal/devserver.ts registers these on its namespace). Every run
// carries Cluster and Runbook from its start, and runbooks set RunbookPhase as they go.

export const SEARCH_ATTRIBUTE_KEYS = {
  /** The cluster a run acts on. */
  Cluster: defineSearchAttributeKey('Cluster', SearchAttributeType.KEYWORD),
  /** What the run is: a runbook (RUNBOOKS) or a support workflow (SUPPORT_WORKFLOWS). */
  Runbook: defineSearchAttributeKey('Runbook', SearchAttributeType.KEYWORD),
  /** Where a runbook is (Runbook.enterPhase): "preflight", "waiting-for-window", "done", ... */
  RunbookPhase: defineSearchAttributeKey('RunbookPhase', SearchAttributeType.KEYWORD),
} as const;

/** Cluster and Runbook: `typedSearchAttributes` on a start, and the run's first upsert. */
export const runSearchAttributes = (
  cluster: string,
  runbook: RunbookName | SupportWorkflowName,
): SearchAttributePair[] => [
  { key: SEARCH_ATTRIBUTE_KEYS.Cluster, value: cluster },
  { key: SEARCH_ATTRIBUTE_KEYS.Runbook, value: runbook },
];

/** The upsert of a runbook entering a phase. */
export const phaseSearchAttribute = (phase: string): SearchAttributeUpdatePair[] => [
  { key: SEARCH_ATTRIBUTE_KEYS.RunbookPhase, value: phase },
];

// ---------------------------------------------------------------------------------------------
// Every runbook: the `progress` query (workflows/runbook.ts answers it).

export interface Progress {
  runbook: RunbookName;
  cluster: string;
  phase: string;
  timeline: TimelineStep[];
  /** The run's upgrade window, when its input gives one (workflows/window.ts). */
  window?: WindowProgress;
}

export interface WindowProgress {
  spec: string;
  opensAt: string;
  closesAt: string;
  /** Still sleeping until opensAt. */
  waiting: boolean;
  skippedBy?: string;
}

export const progressQuery = defineQuery<Progress>('progress');

// ---------------------------------------------------------------------------------------------
// A runbook waiting for its upgrade window (workflows/window.ts).

export interface SkipWindowRequest {
  /** Who overrides the window (recorded in the timeline). */
  by?: string;
  comment?: string;
}

/** Operator override: start now instead of at the window's opening. Answers what was done. */
export const skipWindowUpdate = defineUpdate<string, [SkipWindowRequest]>('skipWindow');

/** The RunbookPhase of a run sleeping until its window opens (`skip-window` finds runs by it). */
export const WAITING_FOR_WINDOW = 'waiting-for-window';

// ---------------------------------------------------------------------------------------------
// Human approval (workflows/emergency/approval.ts), in emergency recovery and before a blue/green
// cutover. Updates, not signals: a run that is not waiting rejects them with the reason.

export interface ApprovalRequest {
  by?: string;
  comment?: string;
}

/** Answers "approved by NAME". */
export const approveUpdate = defineUpdate<string, [ApprovalRequest]>('approve');
/** Answers "aborted by NAME"; nothing is changed. */
export const abortUpdate = defineUpdate<string, [ApprovalRequest]>('abort');

// ---------------------------------------------------------------------------------------------
// The blue/green upgrade's rollback window (workflows/blueGreenUpgrade.ts). Signals: one sent
// outside the window is recorded in the result's warnings and ignored.

export interface RollbackRequest {
  by?: string;
  comment?: string;
}
/** During the rollback window: successover back to blue. */
export const rollbackSignal = defineSignal<[RollbackRequest]>('rollback');
/** During the rollback window: keep green, end the run now. */
export const finalizeSignal = defineSignal<[RollbackRequest]>('finalize');

// ---------------------------------------------------------------------------------------------
// The cluster lock (workflows/clusterLock.ts, taken and released by activities/lock.ts).

export interface LockHolder {
  workflowId: string;
  runId: string;
  runbook: string;
}

/**
 * Emergency recovery asks the runbook holding the lock to step aside (workflows/scaffold.ts): a
 * runbook before its point of no return cancels itself, compensates and ends Preempted; one past it,
 * or one that never steps aside, rejects the update with the reason and the recovery waits.
 */
export interface PreemptRequest {
  /** The workflow id of the run that needs the cluster. */
  by: string;
  reason: string;
}
export const preemptUpdate = defineUpdate<string, [PreemptRequest]>('preempt');

/** Ends the lock; ignored unless it names the holder's run, so a stale release frees nothing. */
export const releaseSignal = defineSignal<[{ runId: string }]>('release');
export const holderQuery = defineQuery<LockHolder>('holder');

// ---------------------------------------------------------------------------------------------
// Failure types: the `type` of every ApplicationFailure an activity or a workflow raises. Callers
// branch on them (a refusal is not an error, a timeout may be waited out), and the CLI and the
// metrics report them.

export const FailureType = {
  // Classified by activities (activities/errors.ts).
  /** Network, timeouts, a server that is starting: retrying may help. */
  Unreachable: 'Unreachable',
  /** Wrong password, missing privilege. */
  Authentication: 'Authentication',
  /** The SSH host key differs from the pinned one. */
  HostKeyMismatch: 'HostKeyMismatch',
  /** The inventory or a request is wrong; the fix is in the message. */
  BadConfiguration: 'BadConfiguration',
  /** A SQL error that retrying cannot fix (syntax, unknown variable, replication misconfigured). */
  SqlError: 'SqlError',
  /** A safety check refused the operation; the cluster was left as it was. */
  Refused: 'Refused',
  /** A bounded wait ran out (GTID wait, read_only lock wait). */
  Timeout: 'Timeout',

  // Raised by workflows.
  /** The run's input failed validation; the message names the field. */
  BadInput: 'BadInput',
  /** Workflow code stopped on an error of its own (workflows/scaffold.ts): the run fails, never hangs. */
  WorkflowError: 'WorkflowError',
  /** A planned successover failed before the point of no return and was undone. */
  Compensated: 'Compensated',
  /** A runbook stepped aside for an emergency recovery before its point of no return. */
  Preempted: 'Preempted',
  /** Failed after its point of no return; the message says what is done, and a re-run finishes it. */
  Unfinished: 'Unfinished',
  /** After a run, the cluster breaks an invariant (two writers, traffic elsewhere, ...). */
  InvariantViolated: 'InvariantViolated',
  /** Emergency recovery: the old primary is fenced, but no replica could be promoted complete. */
  CatchUpIncomplete: 'CatchUpIncomplete',
  /** Green replicated badly during a blue/green soak; nothing was cut over. */
  SoakFailed: 'SoakFailed',
  /** Provisioning: the copy is complete but the cluster has no primary to replicate from. */
  NoPrimary: 'NoPrimary',
  /** Provisioning: the copy holds transactions the primary lacks. */
  Diverged: 'Diverged',
  /** Provisioning: the new replica's data differs from another replica's at one position. */
  ChecksumMismatch: 'ChecksumMismatch',
  /** Provisioning: the cluster lock stayed taken past lockTimeoutSeconds. */
  LockTimeout: 'LockTimeout',
  /** Provisioning: the new replica's replication stopped with an error. */
  ReplicationFailed: 'ReplicationFailed',
  /** Provisioning: the new replica did not catch up within catchUpTimeoutSeconds. */
  CatchUpTimeout: 'CatchUpTimeout',
} as const;
export type FailureTypeName = (typeof FailureType)[keyof typeof FailureType];

// ---------------------------------------------------------------------------------------------
// Fleets (workflows/fleet.ts): a runbook on many clusters, run as child workflows with the
// ordinary ids above, so one runbook per cluster holds whoever started it. The fleet itself is
// one run per selector (the same selector twice joins or is refused; `--id` names another) and
// one drain per machine.

/** The Runbook search attribute of a fleet and of a drain (to find them in the UI). */
export const FLEET_WORKFLOWS = { fleet: 'fleet', drainHost: 'drain-host' } as const;
export type FleetKind = (typeof FLEET_WORKFLOWS)[keyof typeof FLEET_WORKFLOWS];

/** `fleet/planned/tier=gold`: the name is the selector (domain/fleet/input.ts fleetName) or `--id`. */
export const fleetWorkflowId = (runbook: FleetRunbook, name: string): string =>
  `${FLEET_WORKFLOWS.fleet}/${runbook}/${name}`;

/** One drain per machine: a second one for the same machine joins or is refused. */
export const drainWorkflowId = (machine: string): string => `${FLEET_WORKFLOWS.drainHost}/${machine}`;

/** Where a fleet is: its RunbookPhase and the first word of its current details. */
export type FleetPhase =
  | 'resolving'
  | 'discovering'
  | 'planning'
  | 'running'
  | 'paused'
  | 'waiting-for-window'
  | 'stopping'
  | 'done';

export type FleetCounts = Record<FleetStatus, number>;

/** The `progress` query of a fleet or a drain (the same query name as a runbook's). */
export interface FleetProgress {
  fleet: string;
  kind: FleetKind;
  runbook: FleetRunbook;
  /** The selector, or the machine being drained. */
  subject: string;
  phase: FleetPhase;
  dryRun: boolean;
  concurrency: number;
  maxFailures: number;
  /** No new child starts: maxFailures children have failed. */
  budgetSpent: boolean;
  paused?: FleetActor;
  aborted?: FleetActor;
  counts: FleetCounts;
  /** This run's number: 1 + the continue-as-new hand-overs before it. */
  run: number;
  /** Every cluster: ended ones with their outcome, then the running, then the waiting. */
  clusters: FleetOutcome[];
}
export const fleetProgressQuery = defineQuery<FleetProgress>('progress');

/** What a fleet or a drain returns; a refusal before any child started is a Refused failure instead. */
export interface FleetResult {
  /** No child failed. */
  ok: boolean;
  fleet: string;
  kind: FleetKind;
  runbook: FleetRunbook;
  subject: string;
  dryRun: boolean;
  /** completed: every cluster ran; budget-spent: maxFailures reached; aborted: the `abort` update. */
  ended: 'completed' | 'budget-spent' | 'aborted';
  aborted?: FleetActor;
  counts: FleetCounts;
  failed: string[];
  refused: string[];
  /** Never started (budget spent, aborted, or a plan-only dry run). */
  notStarted: string[];
  runs: number;
  startedAt: string;
  endedAt: string;
  clusters: FleetOutcome[];
}

/** Who pauses, resumes or aborts a fleet (recorded in its progress and result). */
export interface FleetRequest {
  by?: string;
  comment?: string;
}
/** No new child starts until `resume`; running children finish. Answers what was done. */
export const pauseUpdate = defineUpdate<string, [FleetRequest]>('pause');
export const resumeUpdate = defineUpdate<string, [FleetRequest]>('resume');
// A fleet's `abort` is abortUpdate above (same name and request): no new child starts, and the
// running ones finish: a child is never cancelled, it may be inside its critical section.
