// What a provisioning run shows while it copies and while the new replica catches up, and the
// figures of its result. Decimal units throughout (1 MB = 10^6 bytes), so MB and MB/s agree.

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];

/** 0 B, 950 B, 1.2 kB, 12.3 MB, 1.0 GB. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return 'unknown';
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < UNITS.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${Math.round(v)} B` : `${v.toFixed(1)} ${UNITS[i]}`;
}

/** Megabytes per second, to 0.1; null when no time elapsed (a rate would be meaningless). */
export function mbPerSecond(bytes: number, ms: number): number | null {
  if (!(ms > 0) || !(bytes >= 0)) return null;
  return Math.round((bytes / 1e6 / (ms / 1000)) * 10) / 10;
}

/** Rows per second, whole; null without rows or time. */
export function rowsPerSecond(rows: number | null, ms: number): number | null {
  if (rows === null || !(ms > 0) || !(rows >= 0)) return null;
  return Math.round(rows / (ms / 1000));
}

export function formatRate(bytes: number, ms: number): string {
  const r = mbPerSecond(bytes, ms);
  return r === null ? 'rate unknown' : `${r.toFixed(1)} MB/s`;
}

export function formatDuration(ms: number): string {
  if (!(ms >= 0)) return 'unknown';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  const rest = Math.round(s - m * 60);
  return m < 60 ? `${m} min ${rest} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** The copy activity's heartbeat details. */
export interface CopyHeartbeat {
  phase: string;
  bytesCopied: number;
  totalBytesEstimate: number;
}

/** "stream: 120.0 MB of ~1.0 GB (12%), 15.0 MB/s" (the rate when the elapsed time is known). */
export function formatCopyProgress(p: CopyHeartbeat, elapsedMs?: number): string {
  const parts = [`${p.phase}: ${formatBytes(p.bytesCopied)}`];
  if (p.totalBytesEstimate > 0) {
    // The estimate is InnoDB's (data + index pages); a dump is text of another size, so cap at 99%.
    const pct = Math.min(99, Math.floor((p.bytesCopied / p.totalBytesEstimate) * 100));
    parts[0] += ` of ~${formatBytes(p.totalBytesEstimate)} (${pct}%)`;
  }
  if (elapsedMs !== undefined && p.bytesCopied > 0) parts.push(formatRate(p.bytesCopied, elapsedMs));
  return parts.join(', ');
}

/** The replicationProgress activity's answer. */
export interface CatchUpProgress {
  ioRunning: string | null;
  sqlRunning: boolean | null;
  lastError: string | null;
  lagSeconds: number | null;
  gtidDistance: number;
}

export function formatLag(lagSeconds: number | null): string {
  return lagSeconds === null ? 'lag unknown' : `lag ${lagSeconds} s`;
}

export function formatGtidDistance(distance: number, primary: string): string {
  return distance === 0
    ? `has every transaction of ${primary}`
    : `${distance} transaction${distance === 1 ? '' : 's'} behind ${primary}`;
}

/** "lag 3 s, 120 transactions behind db1 (IO yes, SQL running)". */
export function formatCatchUp(p: CatchUpProgress, primary: string): string {
  const threads = `IO ${p.ioRunning ?? 'unknown'}, SQL ${p.sqlRunning === null ? 'unknown' : p.sqlRunning ? 'running' : 'stopped'}`;
  return `${formatLag(p.lagSeconds)}, ${formatGtidDistance(p.gtidDistance, primary)} (${threads})${p.lastError ? `; last error: ${p.lastError}` : ''}`;
}

export interface CopyFigures {
  method: string;
  bytes: number;
  rows: number | null;
  ms: number;
  phases: { name: string; ms: number }[];
}

/** "logical copy: 1.2 GB, 3000000 rows in 45.2 s (26.5 MB/s, 66372 rows/s); inspect 120 ms, stream 44.0 s". */
export function formatCopyResult(c: CopyFigures): string {
  const rate = [formatRate(c.bytes, c.ms)];
  const rps = rowsPerSecond(c.rows, c.ms);
  if (rps !== null) rate.push(`${rps} rows/s`);
  const rows = c.rows === null ? '' : `, ${c.rows} rows`;
  const phases = c.phases.map((p) => `${p.name} ${formatDuration(p.ms)}`).join(', ');
  return `${c.method} copy: ${formatBytes(c.bytes)}${rows} in ${formatDuration(c.ms)} (${rate.join(', ')})${phases ? `; ${phases}` : ''}`;
}
