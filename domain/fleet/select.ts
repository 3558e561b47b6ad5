// Which clusters a fleet runs on: a selector over cluster names and labels, an explicit list, and
// the fleet's limits. Pure, over the inventory, so the worker's answer can be recorded and replayed.
//
// SELECTOR grammar (like a Kubernetes label selector): requirements separated by commas, and a
// cluster is selected when ALL of them hold. Spaces around words and operators are ignored.
//
//   all               every cluster (alone: nothing may be combined with it)
//   name=GLOB         the cluster's name matches GLOB (* any run of characters, ? one character)
//   name!=GLOB        it does not
//   KEY=VALUE         the cluster has label KEY with value VALUE (VALUE may be a GLOB too)
//   KEY!=VALUE        it has label KEY with another value, or no label KEY
//   KEY               it has label KEY (any value)
//   !KEY              it has no label KEY
//   GLOB              a bare word with * or ? in it is a name: db-eu-* means name=db-eu-*
//
// A bare word without * or ? is a label test (KEY), never a cluster name: a selector reads the
// same whatever the inventory holds. For one cluster write name=NAME; for a list, give the list.
//
// Every KEY, VALUE and name GLOB must match something in the inventory: a typo in a negation
// (!maintenace, dc!=eu-wset) would otherwise select every cluster, so it is refused, naming what
// exists. Selected clusters come in inventory order.
import { LABEL_NAME, type Inventory } from '../inventory';

export type Selection = { ok: true; clusters: string[] } | { ok: false; problems: string[] };

type Requirement =
  | { kind: 'all' }
  | { kind: 'name'; glob: string; negate: boolean; at: number }
  | { kind: 'label'; key: string; value?: string; negate: boolean; at: number };

export const SELECTOR_FORMS =
  'all, name=GLOB, name!=GLOB, KEY=VALUE, KEY!=VALUE, KEY, !KEY or a name GLOB like db-eu-*';

/** Characters of a word: names, label names and values, and the glob characters * and ?. */
const WORD = /[A-Za-z0-9_./:*?-]/;
const NAME_GLOB = /^[A-Za-z0-9_.*?-]+$/;
const VALUE_GLOB = /^[A-Za-z0-9_./:*?-]+$/;
const hasGlob = (s: string) => /[*?]/.test(s);

export function selectClusters(inv: Inventory, selector: string): Selection {
  if (selector.trim() === '')
    return {
      ok: false,
      problems: [
        `empty selector: give one, e.g. all, tier=gold,dc=eu or name=db-eu-* (forms: ${SELECTOR_FORMS})`,
      ],
    };
  const parsed = parseSelector(selector);
  if (!parsed.ok) return parsed;
  const reqs = parsed.requirements;
  if (reqs.some((r) => r.kind === 'all')) return { ok: true, clusters: inv.clusters.map((c) => c.name) };

  const problems = reqs.flatMap((r) => unknownProblems(inv, selector, r));
  if (problems.length > 0) return { ok: false, problems };
  const clusters = inv.clusters.filter((c) => reqs.every((r) => holds(r, c))).map((c) => c.name);
  if (clusters.length > 0) return { ok: true, clusters };
  return {
    ok: false,
    problems: [
      `selector ${JSON.stringify(selector)} matches none of the inventory's ${inv.clusters.length} cluster(s): every requirement must hold for a cluster. ${labelsInUse(inv)}`,
    ],
  };
}

/** Problems of an explicit list of cluster names: empty, a name twice, a name not in the inventory. */
export function validateClusterList(names: string[], inv: Inventory): string[] {
  if (names.length === 0) return ['the cluster list is empty: name at least one cluster, or give a selector'];
  const known = new Set(inv.clusters.map((c) => c.name));
  const problems: string[] = [];
  const seen = new Map<string, number>();
  names.forEach((n, i) => {
    const first = seen.get(n);
    if (first !== undefined)
      problems.push(`cluster "${n}" is listed twice (positions ${first + 1} and ${i + 1}): list it once`);
    else seen.set(n, i);
    if (first === undefined && !known.has(n)) {
      const near = nearNames(n, [...known]);
      problems.push(
        `unknown cluster "${n}": ${near.length ? `did you mean ${near.join(' or ')}? ` : ''}the inventory has ${sample([...known])}`,
      );
    }
  });
  return problems;
}

/** The fleet's limits, as the CLI's flags name them. */
export function fleetLimitsProblems(o: { concurrency: number; maxFailures: number }): string[] {
  const problems: string[] = [];
  if (!Number.isInteger(o.concurrency) || o.concurrency < 1)
    problems.push(
      `--concurrency: expected a whole number of at least 1 (how many clusters run at once), got ${String(o.concurrency)}: give e.g. --concurrency 1 to run one cluster at a time`,
    );
  if (!Number.isInteger(o.maxFailures) || o.maxFailures < 0)
    problems.push(
      `--max-failures: expected a whole number of at least 0 (failed clusters after which no new one starts), got ${String(o.maxFailures)}: give e.g. --max-failures 1 to stop at the first failure`,
    );
  return problems;
}

type Parsed = { ok: true; requirements: Requirement[] } | { ok: false; problems: string[] };

/** A small scanner: every syntax error names its character position (from 1) and the forms. */
export function parseSelector(selector: string): Parsed {
  const requirements: Requirement[] = [];
  let i = 0;
  const fail = (at: number, what: string): Parsed => ({
    ok: false,
    problems: [
      `selector ${JSON.stringify(selector)}, character ${at + 1}: ${what} (a selector is requirements separated by commas: ${SELECTOR_FORMS})`,
    ],
  });
  const spaces = () => {
    while (i < selector.length && /\s/.test(selector[i] as string)) i++;
  };
  const word = () => {
    const start = i;
    while (i < selector.length && WORD.test(selector[i] as string)) i++;
    return selector.slice(start, i);
  };
  const shown = (at: number) => (at < selector.length ? JSON.stringify(selector[at]) : 'the end');
  for (;;) {
    spaces();
    const at = i;
    if (i >= selector.length || selector[i] === ',')
      return fail(
        at,
        'an empty requirement (a comma at the start or end, or two in a row): remove the extra comma',
      );
    const negate = selector[i] === '!';
    if (negate) {
      i++;
      spaces();
    }
    const keyAt = i;
    const key = word();
    if (key === '') return fail(keyAt, `expected a label name or a name glob, got ${shown(keyAt)}`);
    spaces();
    const op = selector.startsWith('!=', i) ? '!=' : selector[i] === '=' ? '=' : undefined;
    if (op) i += op.length;

    if (!op) {
      if (i < selector.length && selector[i] !== ',')
        return fail(i, `expected "=", "!=" or "," after ${JSON.stringify(key)}, got ${shown(i)}`);
      if (key === 'all' && !negate) {
        if (requirements.length > 0 || i < selector.length)
          return fail(at, '"all" stands alone: write all, or drop it and keep the other requirements');
        requirements.push({ kind: 'all' });
      } else if (key === 'name') {
        return fail(keyAt, 'name needs a glob: write name=GLOB or name!=GLOB');
      } else if (negate) {
        if (!LABEL_NAME.test(key))
          return fail(
            keyAt,
            `!KEY takes a label name, got ${JSON.stringify(key)} (no * or ?: !KEY tests one label)`,
          );
        requirements.push({ kind: 'label', key, negate: true, at: keyAt });
      } else if (hasGlob(key)) {
        if (!NAME_GLOB.test(key))
          return fail(
            keyAt,
            `${JSON.stringify(key)} is not a name glob: cluster names have letters, digits, "_", "." and "-"`,
          );
        requirements.push({ kind: 'name', glob: key, negate: false, at: keyAt });
      } else {
        if (!LABEL_NAME.test(key)) return fail(keyAt, `${JSON.stringify(key)} is not a label name`);
        requirements.push({ kind: 'label', key, negate: false, at: keyAt });
      }
    } else {
      if (negate)
        return fail(at, `"!" goes before a label name alone (!KEY): for "other than" write ${key}!=VALUE`);
      spaces();
      const valueAt = i;
      const value = word();
      if (value === '')
        return fail(
          valueAt,
          `expected a ${key === 'name' ? 'name glob' : 'value'} after "${op}", got ${shown(valueAt)}`,
        );
      if (key === 'name') {
        if (!NAME_GLOB.test(value))
          return fail(
            valueAt,
            `${JSON.stringify(value)} is not a name glob: cluster names have letters, digits, "_", "." and "-"`,
          );
        requirements.push({ kind: 'name', glob: value, negate: op === '!=', at: valueAt });
      } else {
        if (hasGlob(key) || !LABEL_NAME.test(key))
          return fail(
            keyAt,
            `${JSON.stringify(key)} is not a label name (letters, digits, "_", ".", "/", "-"; no * or ?)`,
          );
        if (!VALUE_GLOB.test(value)) return fail(valueAt, `${JSON.stringify(value)} is not a label value`);
        requirements.push({ kind: 'label', key, value, negate: op === '!=', at: keyAt });
      }
      spaces();
      if (i < selector.length && selector[i] !== ',')
        return fail(i, `expected "," before the next requirement, got ${shown(i)}`);
    }
    if (i >= selector.length) return { ok: true, requirements };
    i++; // the comma
  }
}

/** "*" any run, "?" one character, everything else itself. */
export function globMatches(glob: string, s: string): boolean {
  const re = glob
    .replace(/[.+^${}()|[\]\\/-]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`).test(s);
}

type Cluster = Inventory['clusters'][number];

function holds(r: Requirement, c: Cluster): boolean {
  if (r.kind === 'all') return true;
  if (r.kind === 'name') return globMatches(r.glob, c.name) !== r.negate;
  const v = c.labels?.[r.key];
  if (r.value === undefined) return (v !== undefined) !== r.negate;
  // KEY!=VALUE holds for a cluster without the label, as in Kubernetes.
  return (v !== undefined && globMatches(r.value, v)) !== r.negate;
}

/** A requirement naming what no cluster has: refused (a typo in a negation selects everything). */
function unknownProblems(inv: Inventory, selector: string, r: Requirement): string[] {
  const where = `selector ${JSON.stringify(selector)}, character ${r.kind === 'all' ? 1 : r.at + 1}`;
  if (r.kind === 'all') return [];
  if (r.kind === 'name') {
    if (inv.clusters.some((c) => globMatches(r.glob, c.name))) return [];
    return [
      `${where}: no cluster is named like ${JSON.stringify(r.glob)}: the inventory has ${sample(inv.clusters.map((c) => c.name))}`,
    ];
  }
  const values = new Set(inv.clusters.flatMap((c) => c.labels?.[r.key] ?? []));
  if (values.size === 0) {
    const isCluster = !r.negate && r.value === undefined && inv.clusters.some((c) => c.name === r.key);
    return [
      `${where}: no cluster has the label ${JSON.stringify(r.key)}${r.negate || r.value !== undefined ? ' (a typo here would select the wrong clusters)' : ''}. ${
        isCluster ? `"${r.key}" is a cluster name, and a bare word tests a label: write name=${r.key}. ` : ''
      }${labelsInUse(inv)}`,
    ];
  }
  const value = r.value;
  if (value === undefined || [...values].some((v) => globMatches(value, v))) return [];
  return [
    `${where}: no cluster has ${r.key}=${value}: the values of ${r.key} are ${sample([...values].sort())}`,
  ];
}

/** Every label in use with its values, to help write a selector that matches. */
function labelsInUse(inv: Inventory): string {
  const labels = new Map<string, Set<string>>();
  for (const c of inv.clusters)
    for (const [k, v] of Object.entries(c.labels ?? {})) labels.set(k, (labels.get(k) ?? new Set()).add(v));
  if (labels.size === 0)
    return 'No cluster has labels: add labels: to clusters in the inventory, or select by name=GLOB or all.';
  const keys = [...labels.keys()].sort();
  const shown = keys
    .slice(0, 20)
    .map((k) => `${k} (${sample([...(labels.get(k) as Set<string>)].sort(), 10)})`);
  return `Labels in use: ${shown.join(', ')}${keys.length > 20 ? `, and ${keys.length - 20} more` : ''}; or select by name=GLOB.`;
}

/** The first few of a long list, and how many more. */
function sample(items: string[], max = 20): string {
  if (items.length === 0) return 'none';
  return items.length <= max
    ? items.join(', ')
    : `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
}

/** Names at most 2 edits away (a typo), the closest first; at most 3. */
function nearNames(name: string, names: string[]): string[] {
  return names
    .map((n) => ({ n, d: editDistance(name.toLowerCase(), n.toLowerCase()) }))
    .filter((x) => x.d <= 2)
    .sort((a, b) => a.d - b.d)
    .slice(0, 3)
    .map((x) => x.n);
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(
        (prev[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    prev = row;
  }
  return prev[b.length] as number;
}
