// The discovery as emergency decisions read it: each node with its relay facts, and the dead
// primary's replicas, the only nodes whose transactions came from it.
import type { InspectResult } from '../../domain/topology';
import type { EmergencyNode } from '../../domain/emergency';

export function emergencyNodes(seen: InspectResult): EmergencyNode[] {
  return seen.topology.nodes.map((n) => (seen.relay[n.name] ? { ...n, relay: seen.relay[n.name] } : n));
}

export const replicasOf = (seen: InspectResult, primary: string): EmergencyNode[] =>
  emergencyNodes(seen).filter((n) => n.name !== primary && n.replication?.source === primary);

export const nodeIn = (seen: InspectResult, name: string): EmergencyNode =>
  emergencyNodes(seen).find((n) => n.name === name)!;
