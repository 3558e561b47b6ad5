// Closed intervals of transaction numbers, kept sorted, disjoint and non-adjacent so that equal
// sets have equal representations (equality is then a plain comparison).

/** [start, end], both inclusive, start <= end. */
export type Interval = readonly [start: number, end: number];

/** Sorts and merges overlapping or adjacent intervals. */
export function normalizeIntervals(list: readonly Interval[]): Interval[] {
  const sorted = [...list].sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  const out: [number, number][] = [];
  for (const [start, end] of sorted) {
    const last = out[out.length - 1];
    if (last && start <= last[1] + 1) last[1] = Math.max(last[1], end);
    else out.push([start, end]);
  }
  return out;
}

export function unionIntervals(a: readonly Interval[], b: readonly Interval[]): Interval[] {
  return normalizeIntervals([...a, ...b]);
}

export function subtractIntervals(a: readonly Interval[], b: readonly Interval[]): Interval[] {
  const out: Interval[] = [];
  let j = 0;
  for (const [start, end] of a) {
    let from = start;
    while (j < b.length && b[j][1] < from) j++;
    let k = j;
    while (from <= end && k < b.length && b[k][0] <= end) {
      if (b[k][0] > from) out.push([from, b[k][0] - 1]);
      from = Math.max(from, b[k][1] + 1);
      k++;
    }
    if (from <= end) out.push([from, end]);
  }
  return out;
}

export function intersectIntervals(a: readonly Interval[], b: readonly Interval[]): Interval[] {
  const out: Interval[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const start = Math.max(a[i][0], b[j][0]);
    const end = Math.min(a[i][1], b[j][1]);
    if (start <= end) out.push([start, end]);
    if (a[i][1] < b[j][1]) i++;
    else j++;
  }
  return out;
}

export function intervalsSubset(a: readonly Interval[], b: readonly Interval[]): boolean {
  let j = 0;
  for (const [start, end] of a) {
    while (j < b.length && b[j][1] < start) j++;
    if (j >= b.length || b[j][0] > start || b[j][1] < end) return false;
  }
  return true;
}

export function countIntervals(list: readonly Interval[]): number {
  return list.reduce((sum, [start, end]) => sum + (end - start + 1), 0);
}

export function formatIntervals(list: readonly Interval[]): string {
  return list.map(([start, end]) => (start === end ? `${start}` : `${start}-${end}`)).join(':');
}
