// Which primary an emergency recovery is about: the one the trigger names, else the top of the
// replicas' chains, else the inventory's hint.
import type { Cluster } from '../inventory';
import type { EmergencyRecoveryRequest } from '../runbook';
import type { NodeState } from '../topology';
import { inferDeadPrimary } from './confirm';

/** The suspected primary: given, else the top of the replicas' chains, else the inventory's hint. */
export function suspectedPrimary(
  input: EmergencyRecoveryRequest,
  spec: Cluster,
  /** The discovery; needed only when the input names no primary. */
  seen: { topology: { nodes: NodeState[] } } | undefined,
): { primary: string } | { refusal: string } {
  if (input.primary) {
    if (!spec.hosts.some((h) => h.name === input.primary))
      return {
        refusal: `primary "${input.primary}" is not a host of ${spec.name}: expected one of ${spec.hosts.map((h) => h.name).join(', ')}`,
      };
    return { primary: input.primary };
  }
  if (!seen) return { refusal: 'the input names no primary and the cluster was not discovered' };
  const inferred = inferDeadPrimary(seen.topology.nodes);
  if (inferred.found) return { primary: inferred.primary };
  if (spec.primary && inferred.roots.length === 0) return { primary: spec.primary };
  return { refusal: inferred.reason };
}
