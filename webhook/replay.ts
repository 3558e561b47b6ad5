// Replay protection for signed requests: a PagerDuty event id, or a Grafana signature, is
// accepted once while a replay of it could still pass the skew check. Only authenticated requests
// are remembered (an unauthenticated sender can neither fill the memory nor poison an id), and a
// request that was not accepted in the end is forgotten, so the sender's retry is judged afresh.
import { createHash } from 'node:crypto';

export type Claim = { replay: false; release(): void } | { replay: true; firstAtMs: number };

interface Entry {
  untilMs: number;
  firstAtMs: number;
}

/**
 * Keys remembered until a given time. Memory is bounded by time (expired keys are dropped at each
 * claim) and by count (past maxEntries the oldest go first: only a sender holding the secret can
 * add keys, and it needs no replay).
 */
export class ReplayMemory {
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(o: { maxEntries?: number; now?: () => number } = {}) {
    this.maxEntries = o.maxEntries ?? 100_000;
    this.now = o.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Remembers key until untilMs, or says it is a replay (and since when it is known). */
  claim(key: string, untilMs: number): Claim {
    const now = this.now();
    this.forget(now);
    const known = this.entries.get(key);
    if (known !== undefined && known.untilMs >= now) return { replay: true, firstAtMs: known.firstAtMs };
    const entry = { untilMs, firstAtMs: now };
    this.entries.delete(key);
    this.entries.set(key, entry);
    while (this.entries.size > this.maxEntries)
      this.entries.delete(this.entries.keys().next().value as string);
    return {
      replay: false,
      release: () => {
        if (this.entries.get(key) === entry) this.entries.delete(key);
      },
    };
  }

  /**
   * Drops expired keys from the oldest on. Expiry times differ by at most twice the skew window
   * (a signed time may be that far ahead of or behind now), so an unexpired key can hold back
   * expired ones behind it only for that long.
   */
  private forget(now: number): void {
    for (const [key, e] of this.entries) {
      if (e.untilMs >= now) break;
      this.entries.delete(key);
    }
  }
}

/** What a signed request may be accepted once as: its key, until when, and the refusal of a replay. */
export interface Once {
  key: string;
  untilMs: number;
  replayed(agoSeconds: number): string;
}

export type OnceOrRefusal = { ok: true; once: Once } | { ok: false; status: 400 | 401; message: string };

const idKey = (kind: string, id: string) => `${kind}:${createHash('sha256').update(id).digest('hex')}`;

/**
 * A signed PagerDuty event: its occurred_at must be within maxSkewSeconds of now (else an old
 * signed event could be replayed forever), and its id is remembered until occurred_at leaves that
 * window, after which the time check refuses it.
 */
export function pagerDutyOnce(
  event: { id?: string; occurred_at?: string },
  maxSkewSeconds: number,
  nowMs: number = Date.now(),
): OnceOrRefusal {
  const need = 'a signed PagerDuty event needs its id and occurred_at to be told from a replay';
  if (!event.id) return { ok: false, status: 400, message: `event.id: missing: ${need}` };
  if (!event.occurred_at) return { ok: false, status: 400, message: `event.occurred_at: missing: ${need}` };
  const at = Date.parse(event.occurred_at);
  if (Number.isNaN(at))
    return {
      ok: false,
      status: 400,
      message: `event.occurred_at: ${JSON.stringify(event.occurred_at.slice(0, 100))} is not a time: expected ISO 8601`,
    };
  const skew = Math.abs(nowMs - at) / 1000;
  if (skew > maxSkewSeconds)
    return {
      ok: false,
      status: 401,
      message: `event.occurred_at is ${Math.round(skew)} s from now, more than ${maxSkewSeconds} s (webhook.pagerduty.maxSkewSeconds): a replay, or the receiver's clock is off`,
    };
  const id = event.id;
  return {
    ok: true,
    once: {
      key: idKey('pagerduty', id),
      untilMs: Math.max(nowMs, at) + maxSkewSeconds * 1000,
      replayed: (ago) =>
        `PagerDuty event ${id.slice(0, 100)} was already received ${ago} s ago: a replay starts nothing`,
    },
  };
}
