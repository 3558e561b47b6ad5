// The planned successover's critical section, step by step, as its timeline names them.

/**
 * In the order they start (activities/successover.ts; 'traffic to target' runs beside the kill
 * loop, the final position and the wait).
 */
export const CRITICAL_STEPS = [
  'read-only',
  'traffic to target',
  'kill loop started',
  'final position',
  'wait for target',
  'promote',
  'traffic off old primary',
  'kill loop stopped',
  'forget old source',
] as const;
