// What the emergency decisions read of a node: the flavor-neutral NodeState plus the relay facts
// that only matter once the primary is dead (what sits in the relay log, who the source was).
import type { NodeState, RelayFacts } from '../topology';

/** A node as discovery saw it, plus its relay facts when it is a replica. */
export type EmergencyNode = NodeState & { relay?: RelayFacts };
