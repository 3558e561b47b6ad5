// What a fleet (workflows/fleet.ts) is asked to do: a runbook on many clusters, at most
// `concurrency` at once, no new one once `maxFailures` have failed. The input is validated like a
// runbook's (a BadInput failure naming the field); the selector is resolved on the worker, whose
// inventory is authoritative (activities/fleet.ts), never here.
import { z } from 'zod';
import { lazySchema } from '../lazySchema';
import { BlueGreenUpgradeInputSchema, PlannedSuccessoverInputSchema, WindowSchema } from '../runbook';
import { fleetLimitsProblems } from './select';

/** The runbooks a fleet runs, by the name the CLI takes. */
export const FLEET_RUNBOOKS = ['planned', 'upgrade'] as const;
export type FleetRunbook = (typeof FLEET_RUNBOOKS)[number];

/** Every planned child's options; the fleet sets cluster, dryRun, window and (drains) the candidates. */
export const PlannedTemplateSchema = lazySchema(() =>
  PlannedSuccessoverInputSchema.pick({
    force: true,
    maxLagSeconds: true,
    waitTimeoutSeconds: true,
    readOnlyTimeoutSeconds: true,
    killIntervalMs: true,
  }),
);

export type PlannedTemplate = z.output<typeof PlannedTemplateSchema>;

/** `{cluster}` in a template is the cluster's name: "db3", "{cluster}-green". */
const CLUSTER_PLACEHOLDER = /\{cluster\}/g;
export const fillTemplate = (template: string, cluster: string): string =>
  template.replace(CLUSTER_PLACEHOLDER, cluster);

const hostTemplate = lazySchema(() =>
  z.string().refine((t) => /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(fillTemplate(t, 'c')), {
    error: 'expected a host name, with {cluster} where the cluster name goes, e.g. db3 or {cluster}-green',
  }),
);

/** Every upgrade child's options; greenHost and donor are templates (each cluster has its own hosts). */
export const UpgradeTemplateSchema = lazySchema(() =>
  BlueGreenUpgradeInputSchema.omit({
    cluster: true,
    greenHost: true,
    donor: true,
    window: true,
  }).extend({ greenHost: hostTemplate, donor: hostTemplate.optional() }),
);
export type UpgradeTemplate = z.output<typeof UpgradeTemplateSchema>;

/** One cluster still to run; a drain restricts its target (domain/planned/restrict.ts). */
export interface FleetItem {
  cluster: string;
  candidates?: string[];
}

/**
 * Where a cluster is. waiting: not started yet; running: its child runs; done: it succeeded;
 * refused: it (or the plan) refused and changed nothing; failed: anything else, which counts
 * toward maxFailures; skipped: never started (the budget was spent, the fleet aborted, a dry run).
 */
export type FleetStatus = 'waiting' | 'running' | 'done' | 'refused' | 'failed' | 'skipped';

/** One cluster's outcome, compact so 5,000 of them fit a continue-as-new input and a result. */
export interface FleetOutcome {
  cluster: string;
  status: FleetStatus;
  /** One line: "db1 → db2, 42 ms of write blackout", or the reason (at most DETAIL_CHARS). */
  detail?: string;
  /** Planned children (an upgrade's cutover): the write blackout; null on dry runs. */
  blackoutMs?: number | null;
  /** A failed or refused child's failure type (Compensated, Unfinished, Refused, ...). */
  type?: string;
}

/** Who paused or aborted, and when. */
export interface FleetActor {
  by?: string;
  comment?: string;
  at: string;
}

/**
 * What a run hands to the next when it continues as new (only ever with no child running, and
 * never while paused or aborted: a paused fleet waits, an aborted one ends): the clusters still
 * to start and every outcome so far.
 */
export interface FleetCarry {
  queue: FleetItem[];
  outcomes: FleetOutcome[];
  /** Clusters in the fleet, refused by the plan included. */
  total: number;
  /** Runs so far, this one excluded. */
  runs: number;
  startedAt: string;
}

const carried = lazySchema(() =>
  z.custom<FleetCarry>(
    (v) =>
      typeof v === 'object' &&
      v !== null &&
      Array.isArray((v as FleetCarry).queue) &&
      Array.isArray((v as FleetCarry).outcomes),
    { error: 'expected the state a fleet run hands to the next (queue, outcomes)' },
  ),
);

const limits = lazySchema(() => ({
  /** Children running at once. */
  concurrency: z.number().int('expected a whole number of children').default(1),
  /** No new child starts once this many have failed (0 and 1 both stop at the first failure). */
  maxFailures: z.number().int('expected a whole number of failures').default(1),
  /** Return each child's dry run (planned) or the plan alone (upgrade): nothing changes. */
  dryRun: z.boolean().default(false),
  /** Children ended per run before it continues as new (and the history bound, whichever first). */
  continueAsNewAfter: z.number().int().min(1).default(500),
  /** Internal: the state carried across continue-as-new. */
  carried: carried.optional(),
}));

const checkLimits = (o: { concurrency: number; maxFailures: number }, ctx: z.RefinementCtx) => {
  for (const message of fleetLimitsProblems(o)) ctx.addIssue({ code: 'custom', message });
};

const clusterName = lazySchema(() =>
  z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'expected a cluster name from the inventory'),
);

export const FleetInputSchema = lazySchema(() =>
  z
    .strictObject({
      runbook: z.enum(FLEET_RUNBOOKS),
      /** Cluster names and labels (domain/fleet/select.ts), resolved against the worker's inventory. */
      selector: z.string().optional(),
      /** Or the clusters by name (the UI, a script): checked against the inventory the same way. */
      clusters: z.array(clusterName).optional(),
      planned: PlannedTemplateSchema.prefault({}),
      /** Required for runbook upgrade: at least greenHost. */
      upgrade: UpgradeTemplateSchema.optional(),
      /**
       * planned: children start only inside the window, and each gets it (so none switches outside
       * it); upgrade: each child's cutover waits for it, as a single upgrade's does.
       */
      window: WindowSchema.optional(),
      ...limits,
    })
    .superRefine((o, ctx) => {
      checkLimits(o, ctx);
      if ((o.selector === undefined) === (o.clusters === undefined))
        ctx.addIssue({
          code: 'custom',
          message: 'give exactly one of selector or clusters',
          path: ['selector'],
        });
      if (o.selector !== undefined && o.selector.trim() === '')
        ctx.addIssue({
          code: 'custom',
          message: 'empty selector: name clusters or labels, e.g. "db-eu-1,db-eu-2" or "tier=gold"',
          path: ['selector'],
        });
      if (o.runbook === 'upgrade' && !o.upgrade)
        ctx.addIssue({
          code: 'custom',
          message:
            'an upgrade fleet needs upgrade.greenHost (a host name, or a template like {cluster}-green)',
          path: ['upgrade'],
        });
    }),
);
export type FleetInput = z.input<typeof FleetInputSchema>;
export type FleetRequest = z.output<typeof FleetInputSchema>;

export const DrainHostInputSchema = lazySchema(() =>
  z
    .strictObject({
      /** The machine to move every primary off (inventory `machine`, else a host's address). */
      machine: z.string().min(1, 'expected a machine name or address'),
      planned: PlannedTemplateSchema.prefault({}),
      /** How many clusters the first step discovers at once. */
      discoveryConcurrency: z.number().int().min(1).max(64).default(8),
      ...limits,
    })
    .superRefine(checkLimits),
);
export type DrainHostInput = z.input<typeof DrainHostInputSchema>;
export type DrainHostRequest = z.output<typeof DrainHostInputSchema>;

/**
 * The longest detail an outcome keeps: 5,000 outcomes, every one a refusal with a long reason and
 * a long cluster name, stay under 1.5 MB, inside a payload's 2 MB (the continue-as-new input, the
 * result). A done cluster's detail is ~40 characters.
 */
export const DETAIL_CHARS = 160;
export const clip = (s: string, max = DETAIL_CHARS): string =>
  s.length <= max ? s : `${s.slice(0, max - 1)}…`;

/**
 * The name of a fleet in its workflow id: the selector itself when short and plain (so the same
 * selector twice is the same fleet: joined or refused), else its start and a hash of it.
 */
export function fleetName(selector: string): string {
  const plain = selector.trim().replace(/\s+/g, '');
  if (plain.length <= 64 && /^[A-Za-z0-9_.,=:!*-]+$/.test(plain)) return plain;
  const head = plain.replace(/[^A-Za-z0-9_.,=:!*-]/g, '_').slice(0, 40);
  return `${head}~${fnv1a(plain)}`;
}

/** FNV-1a, 32 bits, hex: a stable short hash with no crypto module (pure, runs anywhere). */
function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}
