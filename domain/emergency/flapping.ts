// Anti-flapping: a recovery right after another one usually means the new primary is dying for
// the same reason (bad hardware, a query of death) and another failover only moves the damage.
// Inside the block window a recovery needs a human's acknowledgement.

export interface FlappingInput {
  cluster: string;
  /** When the last recovery of this cluster ended: ISO text or epoch ms; null/undefined when none. */
  lastRecoveryEnd: string | number | null | undefined;
  /** Workflow time (epoch ms or ISO). */
  now: string | number;
  /** policy.recoveryBlockSeconds; 0 disables the window. */
  recoveryBlockSeconds: number;
  /** The operator acknowledged the flapping (--ack-flapping). */
  ackFlapping: boolean;
}

export type FlappingDecision =
  | { allowed: true; /** Set when the window was open and acknowledged. */ note?: string }
  | { allowed: false; reason: string; blockedUntil: string };

const toMs = (t: string | number) => (typeof t === 'number' ? t : Date.parse(t));

export function checkFlapping(input: FlappingInput): FlappingDecision {
  const { cluster, lastRecoveryEnd, recoveryBlockSeconds, ackFlapping } = input;
  if (lastRecoveryEnd === null || lastRecoveryEnd === undefined || recoveryBlockSeconds <= 0)
    return { allowed: true };
  const now = toMs(input.now);
  const end = toMs(lastRecoveryEnd);
  if (Number.isNaN(now)) throw new Error(`unreadable current time ${JSON.stringify(input.now)}`);
  if (Number.isNaN(end)) {
    // An unreadable record must not silently open the window: ask for the acknowledgement.
    const reason = `the end of the last recovery of ${cluster} is unreadable (${JSON.stringify(lastRecoveryEnd)})`;
    return ackFlapping
      ? { allowed: true, note: `${reason}; acknowledged` }
      : { allowed: false, reason: `${reason}: acknowledge with --ack-flapping`, blockedUntil: 'unknown' };
  }
  const until = end + recoveryBlockSeconds * 1000;
  if (now >= until) return { allowed: true };
  const endText = new Date(end).toISOString();
  const untilText = new Date(until).toISOString();
  if (ackFlapping)
    return {
      allowed: true,
      note: `a recovery of ${cluster} ended at ${endText}, inside the ${recoveryBlockSeconds} s block window (until ${untilText}); acknowledged`,
    };
  return {
    allowed: false,
    reason: `a recovery of ${cluster} ended at ${endText}; the next is blocked until ${untilText}: acknowledge with --ack-flapping`,
    blockedUntil: untilText,
  };
}
