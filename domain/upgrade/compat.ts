// The compatibility checks of a blue/green upgrade: what in blue's configuration, accounts and
// schemas the green version removed, renamed or reserved, and which settings blue and green must
// share to replicate both ways. Pure: the facts come in, the findings go out; what each release
// changed is data (./versions), not code. Blocking findings stop the upgrade run.
import type { Flavor } from '../inventory';
import type {
  CompatAccount,
  CompatCheck,
  CompatFacts,
  CompatFinding,
  CompatSeverity,
  TargetVersion,
} from './facts';
import { compareVersions, crosses, parseVersion, series } from '../version';
import {
  REPLICATION_RULES,
  knowledgeFor,
  type AuthPluginChange,
  type FlavorKnowledge,
  type VariableChange,
} from './versions';

export type {
  CompatAccount,
  CompatCheck,
  CompatFacts,
  CompatFinding,
  CompatSchema,
  CompatSeverity,
  TargetVersion,
} from './facts';
export { compareVersions, crosses, parseVersion, series } from '../version';

const FLAVOR_NAME: Record<Flavor, string> = { mariadb: 'MariaDB', mysql: 'MySQL' };
const SEVERITY_ORDER: Record<CompatSeverity, number> = { blocking: 0, warning: 1, info: 2 };

/**
 * Findings for moving blue's workload to green, blocking ones first. `green` is either facts
 * collected from the green server (every check, including blue/green replication settings) or
 * only the flavor and version it will run (checks from the recorded knowledge alone).
 */
export function checkCompatibility(blue: CompatFacts, green: CompatFacts | TargetVersion): CompatFinding[] {
  validateFacts(blue, 'blue');
  validateTarget(green);
  const greenFacts = isFacts(green) ? green : undefined;
  if (greenFacts) validateFacts(greenFacts, 'green');
  const findings: CompatFinding[] = [];
  const add = (check: CompatCheck, severity: CompatSeverity, subject: string, message: string) =>
    findings.push({ check, severity, subject, message });

  if (blue.flavor !== green.flavor) {
    add(
      'version',
      'blocking',
      `${blue.flavor} → ${green.flavor}`,
      `blue runs ${FLAVOR_NAME[blue.flavor]} ${blue.version} and green ${FLAVOR_NAME[green.flavor]} ${green.version}: replication between flavors is not a supported upgrade path (different GTID formats and system tables); pick a green of the same flavor`,
    );
    return findings;
  }

  const k = knowledgeFor(blue.flavor);
  const order = compareVersions(green.version, blue.version);
  if (order < 0)
    add(
      'version',
      'blocking',
      `${blue.version} → ${green.version}`,
      `green runs ${green.version}, older than blue's ${blue.version}: a replica older than its source may not read its binary log, and this would be a downgrade; install ${series(blue.version)} or newer on green`,
    );
  else if (order === 0)
    add(
      'version',
      'info',
      green.version,
      greenFacts
        ? `same version: nothing to check between releases; only the settings blue and green must share were compared`
        : `same version: nothing to check`,
    );
  else {
    add(
      'version',
      'info',
      `${blue.version} → ${green.version}`,
      `upgrade from ${FLAVOR_NAME[k.flavor]} ${blue.version} to ${green.version}: checked against what is recorded for the releases in between`,
    );
    for (const f of variableFindings(k, blue, green, greenFacts)) findings.push(f);
    for (const f of sqlModeFindings(k, blue, green)) findings.push(f);
    for (const f of reservedWordFindings(k, blue, green)) findings.push(f);
    for (const f of privilegeFindings(k, blue, green)) findings.push(f);
  }
  // Between equal releases only green's own plugin list can show a difference.
  if (order > 0 || (order === 0 && greenFacts?.authPlugins))
    for (const f of authFindings(k, blue, green, greenFacts)) findings.push(f);
  if (greenFacts) {
    for (const f of replicationFindings(blue, greenFacts)) findings.push(f);
    for (const f of sqlModeDifference(k, blue, greenFacts)) findings.push(f);
  }
  return findings
    .map((f, i) => ({ f, i }))
    .sort((a, b) => SEVERITY_ORDER[a.f.severity] - SEVERITY_ORDER[b.f.severity] || a.i - b.i)
    .map(({ f }) => f);
}

function isFacts(x: CompatFacts | TargetVersion): x is CompatFacts {
  return 'variables' in x || 'accounts' in x || 'schemas' in x;
}

function validateTarget(t: TargetVersion): void {
  if (!t || typeof t !== 'object') throw new TypeError('green: expected facts or { flavor, version }');
  if (!(t.flavor in FLAVOR_NAME))
    throw new Error(`green.flavor: "${String(t.flavor)}" is not a flavor: expected mariadb or mysql`);
  parseVersion(t.version);
}

function validateFacts(f: CompatFacts, which: 'blue' | 'green'): void {
  if (!f || typeof f !== 'object') throw new TypeError(`${which}: expected compatibility facts`);
  if (!(f.flavor in FLAVOR_NAME))
    throw new Error(`${which}.flavor: "${String(f.flavor)}" is not a flavor: expected mariadb or mysql`);
  parseVersion(f.version);
  const problems: string[] = [];
  if (!f.variables || typeof f.variables !== 'object') problems.push('variables (an object of name → value)');
  if (!Array.isArray(f.accounts)) problems.push('accounts (an array)');
  if (typeof f.sqlMode !== 'string') problems.push('sqlMode (a string)');
  if (!Array.isArray(f.schemas)) problems.push('schemas (an array)');
  if (problems.length > 0)
    throw new Error(`${which} facts lack ${problems.join(', ')}: collect them with collectCompatFacts`);
}

const label = (a: CompatAccount) => `'${a.user}'@'${a.host}'`;
const see = (source: string) => `See ${source}`;
/** What the configuration sets (explicit values first). */
const configured = (f: CompatFacts, name: string): string | undefined =>
  f.variables[name] ?? f.replication?.[name];
/** What the server runs with (replication facts first: `log_bin` is a path in an option file, ON here). */
const effective = (f: CompatFacts, name: string): string | undefined =>
  f.replication?.[name] ?? f.variables[name];

/** The most consequential applicable change: a removal over a deprecation, then the latest. */
function strongest<T extends { since: string }>(changes: T[], weight: (c: T) => number): T | undefined {
  return [...changes].sort((a, b) => weight(b) - weight(a) || compareVersions(b.since, a.since))[0];
}

function variableFindings(
  k: FlavorKnowledge,
  blue: CompatFacts,
  green: TargetVersion,
  greenFacts: CompatFacts | undefined,
): CompatFinding[] {
  const out: CompatFinding[] = [];
  for (const [rawName, value] of Object.entries(blue.variables)) {
    const name = rawName.toLowerCase();
    const change = strongest(
      k.variables.filter((c) => c.name === name && crosses(blue.version, green.version, c.since)),
      (c) => (c.kind === 'removed' ? 1 : 0),
    );
    if (change) out.push(variableFinding(k.flavor, change, value, greenFacts));
  }
  return out;
}

function variableFinding(
  flavor: Flavor,
  c: VariableChange,
  value: string,
  greenFacts: CompatFacts | undefined,
): CompatFinding {
  const what = `${c.name}=${value} is ${c.kind} in ${FLAVOR_NAME[flavor]} ${c.since}`;
  if (c.renamedTo) {
    const carried = greenFacts && configured(greenFacts, c.renamedTo) === value;
    const severity: CompatSeverity = carried ? 'info' : c.kind === 'removed' ? 'blocking' : 'warning';
    const fix = carried
      ? `green already sets ${c.renamedTo}=${value}`
      : `set ${c.renamedTo}=${value} on green and drop ${c.name} from its option files`;
    return {
      check: 'renamed-variable',
      severity,
      subject: c.name,
      message: `${what}, renamed ${c.renamedTo}: ${fix}. ${see(c.source)}`,
    };
  }
  if (c.kind === 'deprecated')
    return {
      check: 'removed-variable',
      severity: 'warning',
      subject: c.name,
      message: `${what}: still accepted, a later release removes it${c.fix ? `; ${c.fix}` : ''}. ${see(c.source)}`,
    };
  // Without green's facts nothing shows green's option files are free of it, and one naming it
  // stops the server at startup. A running green proves they are: only the behaviour is gone.
  return {
    check: 'removed-variable',
    severity: greenFacts ? 'warning' : 'blocking',
    subject: c.name,
    message: greenFacts
      ? `${what}: green runs without it, so what blue set with it no longer applies${c.fix ? ` (${c.fix})` : ''}. ${see(c.source)}`
      : `${what}: an option file naming it stops green at startup; drop it from green's option files${c.fix ? ` (${c.fix})` : ''}. ${see(c.source)}`,
  };
}

const modesOf = (sqlMode: string) =>
  sqlMode
    .split(',')
    .map((m) => m.trim().toUpperCase())
    .filter(Boolean);

function removedModes(k: FlavorKnowledge, blue: CompatFacts, green: TargetVersion) {
  const modes = new Set(modesOf(blue.sqlMode));
  return k.sqlModes.filter((m) => modes.has(m.mode) && crosses(blue.version, green.version, m.since));
}

function sqlModeFindings(k: FlavorKnowledge, blue: CompatFacts, green: TargetVersion): CompatFinding[] {
  // A removed mode is an error wherever it is set: the option file stops the server, SET fails,
  // and statements replicated with it in their sql_mode stop green's applier.
  return removedModes(k, blue, green).map((m) => ({
    check: 'sql-mode',
    severity: 'blocking',
    subject: m.mode,
    message: `blue's sql_mode has ${m.mode}, removed in ${FLAVOR_NAME[k.flavor]} ${m.since}: ${m.fix}. ${see(m.source)}`,
  }));
}

function sqlModeDifference(k: FlavorKnowledge, blue: CompatFacts, green: CompatFacts): CompatFinding[] {
  const reported = new Set(
    compareVersions(green.version, blue.version) > 0 ? removedModes(k, blue, green).map((m) => m.mode) : [],
  );
  const b = new Set(modesOf(blue.sqlMode));
  const g = new Set(modesOf(green.sqlMode));
  const onlyBlue = [...b].filter((m) => !g.has(m) && !reported.has(m));
  const onlyGreen = [...g].filter((m) => !b.has(m));
  if (onlyBlue.length === 0 && onlyGreen.length === 0) return [];
  const parts = [
    ...(onlyBlue.length ? [`only blue has ${onlyBlue.join(',')}`] : []),
    ...(onlyGreen.length ? [`only green has ${onlyGreen.join(',')}`] : []),
  ];
  return [
    {
      check: 'sql-mode',
      severity: 'warning',
      subject: 'sql_mode',
      message: `global sql_mode differs (${parts.join('; ')}): after the cutover the same statements can be accepted, rejected or store different values; set green's sql_mode to '${blue.sqlMode}' unless the change is intended`,
    },
  ];
}

// Warning, not blocking: a reserved word still works as a name when quoted, dumps and
// mariadb-backup copy such objects fine, and green's applier replays row events by table id.
// What breaks is SQL text that names the object unquoted — application queries, views, routines,
// statement-logged DDL — and the checks cannot see that text. During the soak a statement that
// breaks green's applier shows up as a replication error, which stops the run on its own.
function reservedWordFindings(k: FlavorKnowledge, blue: CompatFacts, green: TargetVersion): CompatFinding[] {
  const words = new Map(
    k.reservedWords.filter((w) => crosses(blue.version, green.version, w.since)).map((w) => [w.word, w]),
  );
  if (words.size === 0) return [];
  const out: CompatFinding[] = [];
  const check = (kind: string, name: string, subject: string) => {
    const w = words.get(name.toUpperCase());
    if (!w) return;
    out.push({
      check: 'reserved-word',
      severity: 'warning',
      subject,
      message: `${w.word} is reserved from ${FLAVOR_NAME[k.flavor]} ${w.since}: on green the ${kind} ${subject} can be named only quoted (\`${name}\`); quote it in every query, view and routine that names it, or rename it. ${see(w.source)}`,
    });
  };
  for (const s of blue.schemas) {
    check('schema', s.name, s.name);
    for (const t of s.tables) check('table', t, `${s.name}.${t}`);
    for (const c of s.columns ?? []) {
      const dot = c.lastIndexOf('.');
      check('column', dot >= 0 ? c.slice(dot + 1) : c, `${s.name}.${c}`);
    }
  }
  return out;
}

const normalizePrivilege = (p: string) => p.trim().toUpperCase().replace(/\s+/g, ' ');

function privilegeFindings(k: FlavorKnowledge, blue: CompatFacts, green: TargetVersion): CompatFinding[] {
  const changes = k.privileges.filter((p) => crosses(blue.version, green.version, p.since));
  const out: CompatFinding[] = [];
  for (const a of blue.accounts) {
    const held = new Set((a.privileges ?? []).map(normalizePrivilege));
    for (const p of changes) {
      if (!held.has(p.privilege)) continue;
      if (p.kind === 'narrowed' && p.lost && held.has(p.lost)) continue;
      out.push({
        check: 'privilege',
        severity: 'warning',
        subject: label(a),
        message:
          p.kind === 'narrowed'
            ? `${label(a)} holds ${p.privilege} without ${p.lost}: from ${FLAVOR_NAME[k.flavor]} ${p.since} ${p.privilege} no longer includes it; ${p.fix}. ${see(p.source)}`
            : `${label(a)} holds ${p.privilege}, deprecated from ${FLAVOR_NAME[k.flavor]} ${p.since}: ${p.fix}. ${see(p.source)}`,
      });
    }
  }
  return out;
}

const pluginsOf = (a: CompatAccount) => [a.plugin, ...(a.alternativePlugins ?? [])].filter(Boolean);

function authFindings(
  k: FlavorKnowledge,
  blue: CompatFacts,
  green: TargetVersion,
  greenFacts: CompatFacts | undefined,
): CompatFinding[] {
  const out: CompatFinding[] = [];
  const applicable = (c: AuthPluginChange) => crosses(blue.version, green.version, c.since);
  for (const c of k.authPlugins.filter((x) => x.kind === 'default-changed' && applicable(x)))
    out.push({
      check: 'auth-plugin',
      severity: 'info',
      subject: c.plugin,
      message: `${c.plugin} is no longer the default authentication plugin from ${FLAVOR_NAME[k.flavor]} ${c.since}: ${c.fix}. ${see(c.source)}`,
    });

  const active = greenFacts?.authPlugins
    ? new Set(greenFacts.authPlugins.map((p) => p.toLowerCase()))
    : undefined;
  for (const a of blue.accounts) {
    const plugins = pluginsOf(a).map((p) => p.toLowerCase());
    if (plugins.length === 0) continue;
    if (active) {
      // Green's own list of active plugins settles it, whatever the release notes say.
      if (plugins.some((p) => active.has(p))) continue;
      const known = strongest(
        k.authPlugins.filter(
          (c) =>
            c.plugin === plugins[0] &&
            c.kind !== 'default-changed' &&
            compareVersions(green.version, c.since) >= 0,
        ),
        (c) => (c.kind === 'removed' ? 1 : 0),
      );
      out.push({
        check: 'auth-plugin',
        severity: 'blocking',
        subject: label(a),
        message: `${label(a)} authenticates with ${plugins.join(' or ')}, which green does not have active (green has ${[...active].join(', ') || 'none'}): it could not log in after the cutover; ${known ? known.fix : 'load the plugin on green, or ALTER USER the account to a plugin green has'}${known ? `. ${see(known.source)}` : ''}`,
      });
      continue;
    }
    // Without green's plugin list: the account fails only when every plugin it may use is gone.
    const breaking = plugins.map((p) =>
      strongest(
        k.authPlugins.filter(
          (c) => c.plugin === p && (c.kind === 'disabled' || c.kind === 'removed') && applicable(c),
        ),
        (c) => (c.kind === 'removed' ? 1 : 0),
      ),
    );
    if (breaking.every((c) => c !== undefined)) {
      const c = breaking[0] as AuthPluginChange;
      out.push({
        check: 'auth-plugin',
        severity: 'blocking',
        subject: label(a),
        message: `${label(a)} authenticates with ${c.plugin}, ${c.kind === 'removed' ? 'removed' : 'not loaded by default'} from ${FLAVOR_NAME[k.flavor]} ${c.since}: it could not log in after the cutover; ${c.fix}. ${see(c.source)}`,
      });
      continue;
    }
    for (const c of k.authPlugins) {
      if (c.kind !== 'loadable' || !plugins.includes(c.plugin) || compareVersions(green.version, c.since) < 0)
        continue;
      out.push({
        check: 'auth-plugin',
        severity: 'info',
        subject: label(a),
        message: `${label(a)} authenticates with ${c.plugin}, a plugin the server does not load by default: ${c.fix}. ${see(c.source)}`,
      });
    }
  }
  return out;
}

const BOOLEAN: Record<string, string> = {
  '1': 'ON',
  ON: 'ON',
  YES: 'ON',
  TRUE: 'ON',
  '0': 'OFF',
  OFF: 'OFF',
  NO: 'OFF',
  FALSE: 'OFF',
};
const normalizeValue = (v: string) => {
  const s = String(v).trim().toUpperCase();
  return BOOLEAN[s] ?? s;
};

function replicationFindings(blue: CompatFacts, green: CompatFacts): CompatFinding[] {
  const out: CompatFinding[] = [];
  const read = (f: CompatFacts, names: string[]) => {
    for (const n of names) {
      const v = effective(f, n);
      if (v !== undefined) return { name: n, value: v };
    }
    return undefined;
  };
  for (const r of REPLICATION_RULES) {
    const b = read(blue, r.names);
    const g = read(green, r.names);
    if (!g) continue;
    const broken =
      r.rule === 'on'
        ? normalizeValue(g.value) !== 'ON'
        : b !== undefined &&
          (r.rule === 'same'
            ? normalizeValue(b.value) !== normalizeValue(g.value)
            : normalizeValue(b.value) === normalizeValue(g.value));
    if (!broken) continue;
    out.push({
      check: 'replication',
      severity: r.severity,
      subject: g.name,
      message:
        r.rule === 'on'
          ? `green has ${g.name}=${g.value}: ${r.why}`
          : `blue has ${b?.name}=${b?.value}, green ${g.name}=${g.value}: ${r.why}`,
    });
  }
  return out;
}
