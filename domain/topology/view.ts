// A node as results, the CLI and the UI show it: one flat row per node.
import type { NodeState } from './nodeState';

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

export function toView(n: NodeState): TopologyNodeView {
  return {
    name: n.name,
    role: n.readOnly === false ? 'primary' : n.replication ? 'replica' : 'unknown',
    readOnly: n.readOnly ?? null,
    source: n.replication?.source ?? null,
    ioRunning: n.replication?.ioRunning ?? null,
    sqlRunning: n.replication?.sqlRunning ?? null,
    lagSeconds: n.replication?.lagSeconds ?? null,
    gtid: n.gtidExecuted ?? null,
    version: n.version ?? null,
    error: n.error ?? n.replication?.sqlError ?? (n.replication?.ioError || null),
  };
}
