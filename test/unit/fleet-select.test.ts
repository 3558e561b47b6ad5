// Selectors over cluster names and labels, explicit cluster lists, and the fleet's limits.
import { fleetLimitsProblems, globMatches, selectClusters, validateClusterList } from '../../domain/fleet';
import { fleet } from './fleet.fixtures';

const inv = fleet([
  { name: 'db-eu-1', labels: { tier: 'gold', dc: 'eu-west' }, hosts: { a: 'hv1', b: 'hv2' } },
  {
    name: 'db-eu-2',
    labels: { tier: 'silver', dc: 'eu-west', canary: 'yes' },
    hosts: { a: 'hv1', b: 'hv3' },
  },
  { name: 'db-us-1', labels: { tier: 'gold', dc: 'us-east' }, hosts: { a: 'hv4', b: 'hv5' } },
  { name: 'legacy', hosts: { a: 'hv6', b: 'hv7' } },
]);

const select = (s: string) => {
  const r = selectClusters(inv, s);
  if (!r.ok) throw new Error(`expected a selection for ${s}: ${r.problems.join('; ')}`);
  return r.clusters;
};
const refusal = (s: string) => {
  const r = selectClusters(inv, s);
  if (r.ok) throw new Error(`expected ${s} refused, got ${r.clusters.join(', ')}`);
  return r.problems.join('\n');
};

describe('selectClusters', () => {
  test.each([
    ['all', ['db-eu-1', 'db-eu-2', 'db-us-1', 'legacy']],
    [' all ', ['db-eu-1', 'db-eu-2', 'db-us-1', 'legacy']],
    ['name=db-eu-*', ['db-eu-1', 'db-eu-2']],
    ['db-eu-*', ['db-eu-1', 'db-eu-2']],
    ['name=db-??-1', ['db-eu-1', 'db-us-1']],
    ['name!=db-eu-*', ['db-us-1', 'legacy']],
    ['name=legacy', ['legacy']],
    ['tier=gold', ['db-eu-1', 'db-us-1']],
    ['tier=gold,dc=eu-west', ['db-eu-1']],
    [' tier = gold , dc = eu-west ', ['db-eu-1']],
    ['tier!=gold', ['db-eu-2', 'legacy']], // a cluster without the label holds KEY!=VALUE
    ['dc=eu-*', ['db-eu-1', 'db-eu-2']],
    ['dc=*-east', ['db-us-1']],
    ['canary', ['db-eu-2']],
    ['!canary', ['db-eu-1', 'db-us-1', 'legacy']],
    ['tier,!canary', ['db-eu-1', 'db-us-1']],
    ['db-*,dc=eu-west,!canary', ['db-eu-1']],
  ])('%j selects %j, in inventory order', (selector, expected) => {
    expect(select(selector)).toEqual(expected);
  });

  test('the inventory order, not the order of requirements or matches', () => {
    expect(select('name!=legacy,tier')).toEqual(['db-eu-1', 'db-eu-2', 'db-us-1']);
  });

  test.each(['', '   '])('an empty selector (%j) is refused with examples', (s) => {
    expect(refusal(s)).toMatch(/^empty selector: give one, e\.g\. all, tier=gold,dc=eu or name=db-eu-\*/);
  });

  test.each([
    ['tier=gold,', 11, 'an empty requirement'],
    [',tier=gold', 1, 'an empty requirement'],
    ['tier=gold,,dc=eu-west', 11, 'an empty requirement'],
    ['tier=', 6, 'expected a value after "=", got the end'],
    ['tier=gold dc=eu-west', 11, 'expected "," before the next requirement, got "d"'],
    ['tier==gold', 6, 'expected a value after "=", got "="'],
    ['tier<gold', 5, 'expected "=", "!=" or "," after "tier", got "<"'],
    ['=gold', 1, 'expected a label name or a name glob, got "="'],
    ['name', 1, 'name needs a glob: write name=GLOB or name!=GLOB'],
    ['!tier=gold', 1, '"!" goes before a label name alone (!KEY): for "other than" write tier!=VALUE'],
    ['all,tier=gold', 1, '"all" stands alone'],
    ['tier=gold,all', 11, '"all" stands alone'],
    ['ti*r=gold', 1, '"ti*r" is not a label name'],
    ['!ca*', 2, '!KEY takes a label name'],
    ['name=db/1', 6, '"db/1" is not a name glob'],
  ])('syntax error in %j: at character %d, %s, with the forms', (s, at, what) => {
    const text = refusal(s);
    expect(text).toContain(`selector ${JSON.stringify(s)}, character ${at}: ${what}`);
    expect(text).toContain('requirements separated by commas: all, name=GLOB, name!=GLOB, KEY=VALUE');
  });

  test('a selector that parses but matches nothing lists the labels in use', () => {
    expect(refusal('tier=silver,dc=us-east')).toBe(
      'selector "tier=silver,dc=us-east" matches none of the inventory\'s 4 cluster(s): every requirement must hold for a cluster. ' +
        'Labels in use: canary (yes), dc (eu-west, us-east), tier (gold, silver); or select by name=GLOB.',
    );
  });

  test('a typo in a negation is refused instead of selecting every cluster', () => {
    expect(refusal('!canray')).toMatch(
      /character 2: no cluster has the label "canray" \(a typo here would select the wrong clusters\)\. Labels in use: canary \(yes\)/,
    );
    expect(refusal('dc!=eu-wset')).toContain(
      'character 1: no cluster has dc=eu-wset: the values of dc are eu-west, us-east',
    );
    expect(refusal('name!=db-ue-*')).toContain(
      'character 7: no cluster is named like "db-ue-*": the inventory has db-eu-1, db-eu-2, db-us-1, legacy',
    );
  });

  test('a bare cluster name is a label test, and the refusal says how to name the cluster', () => {
    expect(refusal('legacy')).toContain(
      'no cluster has the label "legacy". "legacy" is a cluster name, and a bare word tests a label: write name=legacy.',
    );
  });

  test('an inventory without labels says how to add them', () => {
    const plain = fleet([{ name: 'c1', hosts: { a: undefined, b: undefined } }]);
    const r = selectClusters(plain, 'tier=gold');
    expect(r.ok).toBe(false);
    expect(!r.ok && r.problems[0]).toContain(
      'No cluster has labels: add labels: to clusters in the inventory, or select by name=GLOB or all.',
    );
  });

  test('a long list of clusters is cut at 20, saying how many more', () => {
    const many = fleet(
      Array.from({ length: 25 }, (_, i) => ({
        name: `c${String(i).padStart(2, '0')}`,
        hosts: { a: undefined, b: undefined },
      })),
    );
    const r = selectClusters(many, 'name=x*');
    expect(!r.ok && r.problems[0]).toMatch(/c00, c01, .*, c19 and 5 more$/);
  });
});

describe('globMatches', () => {
  test.each([
    ['db-*', 'db-eu-1', true],
    ['db-*', 'xdb-eu-1', false],
    ['*', '', true],
    ['db?', 'db1', true],
    ['db?', 'db12', false],
    ['a.b', 'a.b', true],
    ['a.b', 'axb', false], // "." is itself, not any character
    ['*-1', 'db-eu-1', true],
  ])('%j matches %j: %s', (glob, s, expected) => {
    expect(globMatches(glob, s)).toBe(expected);
  });
});

describe('validateClusterList', () => {
  test('known clusters, each once: no problem', () => {
    expect(validateClusterList(['db-us-1', 'db-eu-1'], inv)).toEqual([]);
  });

  test('a cluster listed twice, and an unknown one with the near names', () => {
    expect(validateClusterList(['db-eu-1', 'db-eu-3', 'db-eu-1', 'zzz'], inv)).toEqual([
      'unknown cluster "db-eu-3": did you mean db-eu-1 or db-eu-2? the inventory has db-eu-1, db-eu-2, db-us-1, legacy',
      'cluster "db-eu-1" is listed twice (positions 1 and 3): list it once',
      'unknown cluster "zzz": the inventory has db-eu-1, db-eu-2, db-us-1, legacy',
    ]);
  });

  test('an empty list', () => {
    expect(validateClusterList([], inv)).toEqual([
      'the cluster list is empty: name at least one cluster, or give a selector',
    ]);
  });
});

describe('fleetLimitsProblems', () => {
  test('sensible limits pass', () => {
    expect(fleetLimitsProblems({ concurrency: 1, maxFailures: 0 })).toEqual([]);
    expect(fleetLimitsProblems({ concurrency: 50, maxFailures: 3 })).toEqual([]);
  });

  test.each([0, -1, 1.5, Number.NaN])('concurrency %p is refused naming --concurrency', (c) => {
    expect(fleetLimitsProblems({ concurrency: c, maxFailures: 1 })).toEqual([
      `--concurrency: expected a whole number of at least 1 (how many clusters run at once), got ${String(c)}: give e.g. --concurrency 1 to run one cluster at a time`,
    ]);
  });

  test.each([-1, 0.5, Number.NaN])('maxFailures %p is refused naming --max-failures', (m) => {
    const problems = fleetLimitsProblems({ concurrency: 0, maxFailures: m });
    expect(problems).toHaveLength(2);
    expect(problems[1]).toBe(
      `--max-failures: expected a whole number of at least 0 (failed clusters after which no new one starts), got ${String(m)}: give e.g. --max-failures 1 to stop at the first failure`,
    );
  });
});
