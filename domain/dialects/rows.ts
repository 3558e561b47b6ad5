// Reading values out of mysql2 rows. mysql2 returns integers as numbers, DECIMAL/BIGINT results of
// some functions as strings, NULL as null, and booleans from @@variables as 0/1: accept them all.
import type { Row, Statement } from './statement';

export function stmt(sql: string): Statement {
  return { sql, redacted: sql };
}

export function firstRow(results: Row[][], index: number, what: string): Row {
  const row = results[index]?.[0];
  if (!row) throw new Error(`${what}: the server returned no row`);
  return row;
}

export function field(row: Row, name: string): unknown {
  if (name in row) return row[name];
  // SHOW statements return the server's spelling; be lenient about case.
  const key = Object.keys(row).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : row[key];
}

export function str(row: Row, name: string): string {
  const v = field(row, name);
  if (v === null || v === undefined) return '';
  // Binary columns arrive as Buffers; decode without naming Buffer (absent in workflow code).
  if (v instanceof Uint8Array) return new TextDecoder().decode(v);
  return String(v);
}

export function strOrNull(row: Row, name: string): string | null {
  const v = field(row, name);
  return v === null || v === undefined ? null : str(row, name);
}

export function num(row: Row, name: string): number {
  const n = numOrNull(row, name);
  if (n === null) throw new Error(`expected a number in ${name}, got ${String(field(row, name))}`);
  return n;
}

export function numOrNull(row: Row, name: string): number | null {
  const v = field(row, name);
  if (v === null || v === undefined || v === '') return null;
  const n = typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : Number(String(v));
  return Number.isFinite(n) ? n : null;
}

export function bool(row: Row, name: string): boolean {
  const v = field(row, name);
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  const s = String(v ?? '')
    .trim()
    .toUpperCase();
  return s === '1' || s === 'ON' || s === 'YES' || s === 'TRUE';
}

/** GTID sets: MySQL breaks long sets with newlines after commas; compare them without. */
export function gtidSet(row: Row, name: string): string {
  return str(row, name).replace(/\s+/g, '');
}

export function threadState(value: string): 'yes' | 'no' | 'connecting' {
  const s = value.trim().toLowerCase();
  if (s === 'yes') return 'yes';
  // MariaDB also reports 'Preparing' while the IO thread sets up its connection.
  if (s === 'connecting' || s === 'preparing') return 'connecting';
  return 'no';
}
