// The traffic router contract shared by the VIP, HAProxy and no-op routers.

export type TrafficOp = 'detach' | 'attach';

export interface RouterCallOptions {
  /**
   * Fencing a dead host: report the failure in the result instead of throwing, so the runbook can
   * record what did and did not succeed and carry on.
   */
  bestEffort?: boolean;
}

export interface RouterResult {
  host: string;
  op: TrafficOp;
  /** False only in best-effort mode, when the change could not be made or confirmed. */
  ok: boolean;
  /** False when the host was already in the wanted state (a retry, or nothing to do). */
  changed: boolean;
  /**
   * After this op the host receives new writer connections. The write blackout ends at the first op
   * that routes the new primary: its attach with a VIP, but the old primary's detach when the new
   * one is an HAProxy `backup` server (attach only makes it ready). Always false after a detach,
   * a best-effort failure, or with no router.
   */
  routed: boolean;
  /** What happened, for the run's timeline; never contains secrets. */
  detail: string;
}

export interface Holders {
  /** Hosts that receive new writer connections now (VIP on an interface; HAProxy by its backup rules). */
  holders: string[];
  /** Hosts that could not be asked (VIP router only), with the reason. */
  unknown: { host: string; reason: string }[];
}

/** One command a router would run, and where: for dry-run plans. */
export interface PlannedCommand {
  /** "ssh db1" or "haproxy unix:/run/haproxy/admin.sock". */
  on: string;
  command: string;
}

export interface TrafficRouter {
  readonly type: 'vip' | 'haproxy' | 'none';
  /** Takes writer traffic away from a host. */
  detach(host: string, options?: RouterCallOptions): Promise<RouterResult>;
  /** Gives writer traffic to a host. It does not detach others: runbooks detach the old holder first. */
  attach(host: string, options?: RouterCallOptions): Promise<RouterResult>;
  holders(): Promise<Holders>;
  /** The exact commands detach/attach would run, without running anything. */
  plan(op: TrafficOp, host: string): PlannedCommand[];
}
