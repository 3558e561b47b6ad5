import {
  checkCompatibility,
  compareVersions,
  crosses,
  parseVersion,
  series,
  type CompatFacts,
  type CompatFinding,
} from '../../domain/upgrade/compat';
import { isOlder } from '../../domain/version';
import { MARIADB } from '../../domain/upgrade/versions/mariadb';
import { MYSQL } from '../../domain/upgrade/versions/mysql';
import { REPLICATION_RULES, watchedWords, type FlavorKnowledge } from '../../domain/upgrade/versions';
import { mariadb1011, mariadb106, mariadb114, mysql57, mysql80, mysql84 } from './upgrade-compat.fixtures';

/** `severity check subject`, sorted: the whole set of findings at a glance. */
const summary = (findings: CompatFinding[]) =>
  findings.map((f) => `${f.severity} ${f.check} ${f.subject}`).sort();
const only = (findings: CompatFinding[], subject: string) => {
  const f = findings.filter((x) => x.subject === subject);
  expect(f).toHaveLength(1);
  return f[0] as CompatFinding;
};
const blocking = (findings: CompatFinding[]) => findings.filter((f) => f.severity === 'blocking');
const withFacts = (base: CompatFacts, change: Partial<CompatFacts>): CompatFacts => ({ ...base, ...change });

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

describe('versions', () => {
  it('parses the release out of what @@version prints', () => {
    expect(parseVersion('10.11.19-MariaDB-0+deb12u1')).toMatchObject({ major: 10, minor: 11, patch: 19 });
    expect(parseVersion('10.11.6-MariaDB-log')).toMatchObject({ major: 10, minor: 11, patch: 6 });
    expect(parseVersion('8.0.36-0ubuntu0.22.04.1')).toMatchObject({ major: 8, minor: 0, patch: 36 });
    expect(parseVersion('8.4')).toMatchObject({ major: 8, minor: 4, patch: 0 });
    // The handshake banner MariaDB sends to old clients.
    expect(parseVersion('5.5.5-10.11.6-MariaDB')).toMatchObject({ major: 10, minor: 11, patch: 6 });
    expect(series('10.11.19-MariaDB-0+deb12u1')).toBe('10.11');
  });

  it('orders releases numerically, not as text', () => {
    expect(compareVersions('10.11.2', '10.6.18')).toBeGreaterThan(0);
    expect(compareVersions('10.6.18-MariaDB-log', '10.11.2')).toBeLessThan(0);
    expect(compareVersions('10.11.19-MariaDB-0+deb12u1', '10.11.6-MariaDB')).toBeGreaterThan(0);
    expect(compareVersions('8.0.36-0ubuntu0.22.04.1', '8.4.3')).toBeLessThan(0);
    // What the preflights use: a string that is no version is never "older", and never throws.
    expect(isOlder('10.6.18-MariaDB', '10.11.2-MariaDB')).toBe(true);
    expect(isOlder('10.11.2-MariaDB', '10.11.2-MariaDB-log')).toBe(false);
    expect(isOlder('unknown', '10.11.2')).toBe(false);
    expect(isOlder('10.11.2', '')).toBe(false);
    expect(compareVersions('11.4.5-MariaDB-log', '11.4.5')).toBe(0);
    expect(compareVersions('8.0', '8.0.0')).toBe(0);
  });

  it('places a change on the way from the old to the new release only', () => {
    expect(crosses('10.6.18', '11.4.5', '11.0.0')).toBe(true);
    expect(crosses('11.0.0', '11.4.5', '11.0.0')).toBe(false); // blue already has it
    expect(crosses('10.6.18', '10.11.6', '11.0.0')).toBe(false); // green does not have it yet
    expect(crosses('10.6.18', '11.0.0', '11.0.0')).toBe(true);
  });

  it('refuses what is not a version, naming it and the expected form', () => {
    expect(() => parseVersion('MariaDB')).toThrow(/"MariaDB" is not a server version.*10\.11\.6-MariaDB/);
    expect(() => parseVersion('')).toThrow(/not a server version/);
    expect(() => compareVersions('8.0.36', 'latest')).toThrow(/"latest"/);
  });
});

describe('version and flavor', () => {
  it('blocks a move to the other flavor and checks nothing else', () => {
    const f = checkCompatibility(mariadb106, { flavor: 'mysql', version: '8.0.36' });
    expect(summary(f)).toEqual(['blocking version mariadb → mysql']);
    expect(f[0]?.message).toMatch(/MariaDB 10\.6\.18-MariaDB-log.*MySQL 8\.0\.36.*same flavor/);
  });

  it('blocks a downgrade and skips the release-notes checks that assume an upgrade', () => {
    const f = checkCompatibility(mariadb1011, { flavor: 'mariadb', version: '10.6.18-MariaDB' });
    expect(summary(f)).toEqual(['blocking version 10.11.6-MariaDB-0+deb12u1-log → 10.6.18-MariaDB']);
    expect(f[0]?.message).toMatch(/older than blue's .*install 10\.11 or newer on green/);
  });

  it('says there is nothing to check for the same version given only the version', () => {
    const f = checkCompatibility(mariadb106, { flavor: 'mariadb', version: '10.6.18-MariaDB-log' });
    expect(f).toEqual([
      {
        check: 'version',
        severity: 'info',
        subject: '10.6.18-MariaDB-log',
        message: 'same version: nothing to check',
      },
    ]);
  });
});

describe('MariaDB 10.6 → 11.4', () => {
  it('reports each removed, renamed and reserved item of blue, with its severity', () => {
    const f = checkCompatibility(mariadb106, { flavor: 'mariadb', version: '11.4.5-MariaDB' });
    expect(summary(f)).toEqual([
      'blocking removed-variable innodb_change_buffering',
      'blocking removed-variable innodb_defragment',
      'blocking removed-variable innodb_log_write_ahead_size',
      "info auth-plugin 'monitor'@'%'",
      'info version 10.6.18-MariaDB-log → 11.4.5-MariaDB',
      "warning privilege 'ops'@'10.0.%'",
      'warning renamed-variable tx_isolation',
      'warning reserved-word shop.row_number',
    ]);
    // The removal wins over the earlier deprecation of the same variable.
    expect(only(f, 'innodb_change_buffering').message).toMatch(
      /innodb_change_buffering=none is removed in MariaDB 11\.0\.0: an option file naming it stops green.*change buffer was removed.*https:\/\//,
    );
    expect(only(f, 'tx_isolation').message).toMatch(
      /deprecated in MariaDB 11\.1\.0, renamed transaction_isolation: set transaction_isolation=READ-COMMITTED on green/,
    );
    expect(only(f, 'shop.row_number').message).toMatch(
      /ROW_NUMBER is reserved from MariaDB 10\.7\.0.*`row_number`/,
    );
    expect(only(f, "'ops'@'10.0.%'").message).toMatch(/SUPER without READ_ONLY ADMIN.*10\.11\.0/);
    expect(only(f, "'monitor'@'%'").message).toMatch(/ed25519.*INSTALL SONAME 'auth_ed25519'/);
    // root holds SUPER and READ_ONLY ADMIN (ALL PRIVILEGES): nothing changes for it.
    expect(f.some((x) => x.subject.startsWith("'root'"))).toBe(false);
  });

  it('puts blocking findings first', () => {
    const f = checkCompatibility(mariadb106, { flavor: 'mariadb', version: '11.4.5-MariaDB' });
    const order = f.map((x) => x.severity);
    expect(order).toEqual(
      [...order].sort(
        (a, b) => ['blocking', 'warning', 'info'].indexOf(a) - ['blocking', 'warning', 'info'].indexOf(b),
      ),
    );
    expect(order[0]).toBe('blocking');
  });

  it('with green facts: what green already runs without is a warning, a carried rename info, a missing plugin blocking', () => {
    const f = checkCompatibility(mariadb106, mariadb114);
    expect(summary(f)).toEqual([
      "blocking auth-plugin 'monitor'@'%'",
      'info renamed-variable tx_isolation',
      'info version 10.6.18-MariaDB-log → 11.4.5-MariaDB-log',
      "warning privilege 'ops'@'10.0.%'",
      'warning removed-variable innodb_change_buffering',
      'warning removed-variable innodb_defragment',
      'warning removed-variable innodb_log_write_ahead_size',
      'warning replication explicit_defaults_for_timestamp',
      'warning reserved-word shop.row_number',
    ]);
    expect(only(f, "'monitor'@'%'").message).toMatch(
      /ed25519, which green does not have active \(green has mysql_native_password, mysql_old_password, unix_socket\).*INSTALL SONAME/,
    );
    expect(only(f, 'tx_isolation').message).toMatch(
      /green already sets transaction_isolation=READ-COMMITTED/,
    );
    expect(only(f, 'explicit_defaults_for_timestamp').message).toMatch(
      /blue has explicit_defaults_for_timestamp=OFF, green explicit_defaults_for_timestamp=ON/,
    );
  });

  it('takes an account as usable when any of its OR plugins is active on green', () => {
    const green = withFacts(mariadb114, { authPlugins: ['unix_socket', 'ed25519'] });
    const f = checkCompatibility(mariadb106, green);
    // root: mysql_native_password OR unix_socket; app, repl, ops: only mysql_native_password.
    expect(summary(f).filter((s) => s.includes('auth-plugin'))).toEqual([
      "blocking auth-plugin 'app'@'%'",
      "blocking auth-plugin 'ops'@'10.0.%'",
      "blocking auth-plugin 'repl'@'%'",
    ]);
  });
});

describe('MariaDB 10.11 → 11.4 (clean configuration)', () => {
  it('yields no blocking and no warning finding', () => {
    const f = checkCompatibility(mariadb1011, { flavor: 'mariadb', version: '11.4.5-MariaDB' });
    expect(summary(f)).toEqual(['info version 10.11.6-MariaDB-0+deb12u1-log → 11.4.5-MariaDB']);
  });

  it('with green facts whose settings match blue: still nothing to fix', () => {
    const green = withFacts(mariadb114, { accounts: mariadb1011.accounts, schemas: mariadb1011.schemas });
    expect(blocking(checkCompatibility(mariadb1011, green))).toEqual([]);
  });

  it('an unset variable of an old release is no finding; a set one is', () => {
    const withChangeBuffer = withFacts(mariadb1011, {
      variables: { ...mariadb1011.variables, innodb_change_buffer_max_size: '25' },
    });
    const f = checkCompatibility(withChangeBuffer, { flavor: 'mariadb', version: '11.0.6-MariaDB' });
    expect(summary(f)).toContain('blocking removed-variable innodb_change_buffer_max_size');
    // 11.0 only deprecates the defragment variables; blue does not set them anyway.
    expect(summary(blocking(f))).toEqual(['blocking removed-variable innodb_change_buffer_max_size']);
  });
});

describe('same version, green facts given', () => {
  const green = withFacts(mariadb1011, {
    variables: { ...mariadb1011.variables, server_id: '2' },
    replication: { ...mariadb1011.replication, server_id: '2' },
  });

  it('finds nothing when only server_id differs', () => {
    expect(summary(checkCompatibility(mariadb1011, green))).toEqual([
      'info version 10.11.6-MariaDB-0+deb12u1-log',
    ]);
  });

  it('compares the replication settings blue and green must share', () => {
    const drift = withFacts(green, {
      replication: { ...green.replication, binlog_format: 'MIXED', gtid_strict_mode: 'OFF', server_id: '1' },
    });
    const f = checkCompatibility(mariadb1011, drift);
    expect(summary(f)).toEqual([
      'blocking replication server_id',
      'info version 10.11.6-MariaDB-0+deb12u1-log',
      'warning replication binlog_format',
      'warning replication gtid_strict_mode',
    ]);
    expect(only(f, 'server_id').message).toMatch(/blue has server_id=1, green server_id=1: .*own server_id/);
    expect(only(f, 'binlog_format').message).toMatch(/blue has binlog_format=ROW, green binlog_format=MIXED/);
  });

  it('blocks a green that writes no binary log', () => {
    const f = checkCompatibility(
      mariadb1011,
      withFacts(green, { replication: { ...green.replication, log_bin: 'OFF' } }),
    );
    expect(only(f, 'log_bin')).toMatchObject({ check: 'replication', severity: 'blocking' });
  });

  it('reads booleans as the servers print them (1/ON)', () => {
    const g = withFacts(green, {
      replication: { ...green.replication, gtid_strict_mode: '1', log_bin: '1' },
    });
    expect(blocking(checkCompatibility(mariadb1011, g))).toEqual([]);
    expect(summary(checkCompatibility(mariadb1011, g))).toEqual([
      'info version 10.11.6-MariaDB-0+deb12u1-log',
    ]);
  });

  it('blocks a different lower_case_table_names', () => {
    const g = withFacts(green, { replication: { ...green.replication, lower_case_table_names: '1' } });
    expect(only(checkCompatibility(mariadb1011, g), 'lower_case_table_names').severity).toBe('blocking');
  });

  it('warns when the global sql_mode differs, naming both sides', () => {
    const g = withFacts(green, { sqlMode: 'STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION,ANSI_QUOTES' });
    const f = only(checkCompatibility(mariadb1011, g), 'sql_mode');
    expect(f).toMatchObject({ check: 'sql-mode', severity: 'warning' });
    expect(f.message).toMatch(
      /only blue has ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER; only green has ANSI_QUOTES/,
    );
  });
});

describe('MySQL 5.7 → 8.0', () => {
  const f = checkCompatibility(mysql57, { flavor: 'mysql', version: '8.0.36' });

  it('reports removed variables, renames, SQL modes, reserved words, plugin default and SUPER', () => {
    expect(summary(f)).toEqual([
      'blocking removed-variable innodb_file_format',
      'blocking removed-variable innodb_large_prefix',
      'blocking removed-variable log_warnings',
      'blocking removed-variable query_cache_size',
      'blocking removed-variable query_cache_type',
      'blocking renamed-variable tx_isolation',
      'blocking sql-mode NO_AUTO_CREATE_USER',
      'info auth-plugin mysql_native_password',
      'info version 5.7.44-log → 8.0.36',
      'warning privilege ' + "'root'@'localhost'",
      'warning removed-variable expire_logs_days',
      'warning renamed-variable log_slave_updates',
      'warning reserved-word app.rank',
      'warning reserved-word app.users.groups',
    ]);
  });

  it('says what replaces each and cites where it is written', () => {
    expect(only(f, 'tx_isolation').message).toMatch(
      /tx_isolation=READ-COMMITTED is removed in MySQL 8\.0\.3, renamed transaction_isolation: set transaction_isolation=READ-COMMITTED on green.*worklog\/task\/\?id=9636/,
    );
    expect(only(f, 'log_warnings').message).toMatch(/log_error_verbosity/);
    expect(only(f, 'expire_logs_days').message).toMatch(
      /deprecated in MySQL 8\.0\.3.*binlog_expire_logs_seconds/,
    );
    expect(only(f, 'NO_AUTO_CREATE_USER').message).toMatch(/removed in MySQL 8\.0\.11.*CREATE USER/);
    expect(only(f, 'app.rank').message).toMatch(
      /RANK is reserved from MySQL 8\.0\.2: on green the table app\.rank can be named only quoted \(`rank`\)/,
    );
    expect(only(f, 'app.users.groups').message).toMatch(/GROUPS.*column app\.users\.groups.*`groups`/);
    expect(only(f, 'mysql_native_password').message).toMatch(/caching_sha2_password/);
    for (const x of f.filter((y) => y.check !== 'version')) expect(x.message).toMatch(/See https:\/\//);
  });

  it('does not touch the accounts yet: mysql_native_password still loads in 8.0', () => {
    expect(f.filter((x) => x.check === 'auth-plugin' && x.severity === 'blocking')).toEqual([]);
  });
});

describe('MySQL 5.7 → 8.4', () => {
  it('adds what 8.2 and 8.4 removed: expire_logs_days and the native password accounts', () => {
    const f = checkCompatibility(mysql57, { flavor: 'mysql', version: '8.4.3' });
    expect(only(f, 'expire_logs_days')).toMatchObject({ check: 'removed-variable', severity: 'blocking' });
    expect(only(f, 'expire_logs_days').message).toMatch(/removed in MySQL 8\.2\.0/);
    expect(summary(f.filter((x) => x.check === 'auth-plugin'))).toEqual([
      "blocking auth-plugin 'app'@'%'",
      "blocking auth-plugin 'repl'@'%'",
      "blocking auth-plugin 'root'@'localhost'",
      'info auth-plugin mysql_native_password',
    ]);
    expect(only(f, "'app'@'%'").message).toMatch(
      /not loaded by default from MySQL 8\.4\.0.*mysql_native_password=ON/,
    );
  });

  it('a 9.x green cannot be helped by an option: the plugin is gone', () => {
    const f = checkCompatibility(mysql57, { flavor: 'mysql', version: '9.1.0' });
    expect(only(f, "'app'@'%'").message).toMatch(
      /removed from MySQL 9\.0\.0.*move the account before the upgrade/,
    );
  });
});

describe('MySQL 8.0 → 8.4', () => {
  it('without green facts: removed variables and the native password account block', () => {
    const f = checkCompatibility(mysql80, { flavor: 'mysql', version: '8.4.3' });
    expect(summary(f)).toEqual([
      "blocking auth-plugin 'app'@'%'",
      'blocking removed-variable binlog_transaction_dependency_tracking',
      'blocking removed-variable default_authentication_plugin',
      'info version 8.0.36 → 8.4.3',
    ]);
    expect(only(f, 'default_authentication_plugin').message).toMatch(/authentication_policy/);
    // RANK and GROUPS were reserved already in 8.0.36: nothing new.
    expect(f.some((x) => x.check === 'reserved-word')).toBe(false);
  });

  it("with green facts: green's active plugins decide, and removed variables only warn", () => {
    const f = checkCompatibility(mysql80, mysql84);
    expect(summary(f)).toEqual([
      "blocking auth-plugin 'app'@'%'",
      'info version 8.0.36 → 8.4.3',
      'warning removed-variable binlog_transaction_dependency_tracking',
      'warning removed-variable default_authentication_plugin',
    ]);
    expect(only(f, "'app'@'%'").message).toMatch(
      /green does not have active \(green has caching_sha2_password, sha256_password\).*mysql_native_password=ON/,
    );
  });

  it('no auth finding once green is started with mysql_native_password=ON', () => {
    const green = withFacts(mysql84, {
      authPlugins: [...(mysql84.authPlugins ?? []), 'mysql_native_password'],
    });
    expect(checkCompatibility(mysql80, green).filter((x) => x.check === 'auth-plugin')).toEqual([]);
  });

  it('an 8.0 before 8.0.26 still sets log_slave_updates: a deprecation warning with its new name', () => {
    const old = withFacts(mysql80, {
      version: '8.0.23',
      variables: { ...mysql80.variables, log_slave_updates: 'ON' },
    });
    const f = only(checkCompatibility(old, { flavor: 'mysql', version: '8.4.3' }), 'log_slave_updates');
    expect(f).toMatchObject({ check: 'renamed-variable', severity: 'warning' });
    expect(f.message).toMatch(/renamed log_replica_updates: set log_replica_updates=ON on green/);
  });

  it('a clean 8.0 (caching_sha2_password only, nothing removed set) has no blocking finding', () => {
    const clean = withFacts(mysql80, {
      variables: {
        gtid_mode: 'ON',
        enforce_gtid_consistency: 'ON',
        server_id: '1',
        innodb_buffer_pool_size: '8589934592',
      },
      accounts: mysql80.accounts.filter((a) => a.plugin === 'caching_sha2_password'),
    });
    expect(summary(checkCompatibility(clean, { flavor: 'mysql', version: '8.4.3' }))).toEqual([
      'info version 8.0.36 → 8.4.3',
    ]);
    expect(blocking(checkCompatibility(clean, mysql84))).toEqual([]);
  });

  it('blocks a green without GTIDs: successover repoints with auto-positioning', () => {
    const g = withFacts(mysql84, { replication: { ...mysql84.replication, gtid_mode: 'OFF' } });
    expect(only(checkCompatibility(mysql80, g), 'gtid_mode').severity).toBe('blocking');
  });

  it('wants green to log what it applies, under either spelling of the variable', () => {
    const newName = withFacts(mysql84, {
      replication: { ...mysql84.replication, log_replica_updates: 'OFF' },
    });
    expect(only(checkCompatibility(mysql80, newName), 'log_replica_updates')).toMatchObject({
      check: 'replication',
      severity: 'warning',
    });
    const { log_replica_updates: _unused, ...rest } = mysql84.replication ?? {};
    const oldName = withFacts(mysql84, {
      version: '8.0.25',
      replication: { ...rest, log_slave_updates: '0' },
    });
    const f = only(
      checkCompatibility(withFacts(mysql80, { version: '8.0.23' }), oldName),
      'log_slave_updates',
    );
    expect(f.message).toMatch(/green has log_slave_updates=0/);
  });
});

describe('reserved words', () => {
  it('match names in any case and schema names too', () => {
    const blue = withFacts(mysql57, {
      schemas: [{ name: 'Window', tables: ['Rank', 'ok'], columns: ['ok.LATERAL', 'ok.name'] }],
    });
    const f = checkCompatibility(blue, { flavor: 'mysql', version: '8.0.36' });
    expect(summary(f.filter((x) => x.check === 'reserved-word'))).toEqual([
      'warning reserved-word Window',
      'warning reserved-word Window.Rank',
      'warning reserved-word Window.ok.LATERAL',
    ]);
  });

  it('only words reserved by the releases in between count', () => {
    // LATERAL became reserved in 8.0.14: from 8.0.13 on, INTERSECT (8.0.31) is still new.
    const blue = withFacts(mysql57, {
      version: '8.0.13',
      sqlMode: '',
      variables: {},
      accounts: [],
      schemas: [{ name: 'app', tables: ['lateral', 'intersect', 'rank'], columns: [] }],
    });
    expect(summary(checkCompatibility(blue, { flavor: 'mysql', version: '8.0.30' }))).toEqual([
      'info version 8.0.13 → 8.0.30',
      'warning reserved-word app.lateral',
    ]);
  });
});

describe('input', () => {
  it('is not modified', () => {
    const blue = deepFreeze(structuredClone(mariadb106));
    const green = deepFreeze(structuredClone(mariadb114));
    expect(() => checkCompatibility(blue, green)).not.toThrow();
  });

  it('bad facts are refused with what is missing and how to get it', () => {
    const broken = { flavor: 'mariadb', version: '10.11.6' } as unknown as CompatFacts;
    expect(() => checkCompatibility(broken, mariadb114)).toThrow(
      /blue facts lack variables .*accounts .*sqlMode .*schemas .*collectCompatFacts/,
    );
    expect(() => checkCompatibility(mariadb106, { flavor: 'oracle' as never, version: '19.0' })).toThrow(
      /green\.flavor: "oracle" is not a flavor: expected mariadb or mysql/,
    );
    expect(() => checkCompatibility(withFacts(mariadb106, { version: 'ten' }), mariadb114)).toThrow(
      /"ten" is not a server version/,
    );
  });
});

describe('recorded knowledge', () => {
  const all: [string, FlavorKnowledge][] = [
    ['mariadb', MARIADB],
    ['mysql', MYSQL],
  ];

  it.each(all)('%s: every entry names a parseable release and an https source', (_, k) => {
    const entries = [...k.variables, ...k.sqlModes, ...k.reservedWords, ...k.authPlugins, ...k.privileges];
    expect(entries.length).toBeGreaterThan(0);
    for (const e of entries) {
      expect(() => parseVersion(e.since)).not.toThrow();
      expect(e.source).toMatch(/^https:\/\/\S+$/);
    }
  });

  it.each(all)('%s: names are spelled as the servers print them, without duplicates', (_, k) => {
    for (const v of k.variables) {
      expect(v.name).toMatch(/^[a-z0-9_]+$/);
      if (v.renamedTo) expect(v.renamedTo).toMatch(/^[a-z0-9_]+$/);
    }
    for (const w of k.reservedWords) expect(w.word).toMatch(/^[A-Z_]+$/);
    for (const m of k.sqlModes) expect(m.mode).toMatch(/^[A-Z0-9_]+$/);
    const keys = k.variables.map((v) => `${v.name} ${v.kind} ${v.since}`);
    expect(new Set(keys).size).toBe(keys.length);
    const words = k.reservedWords.map((w) => w.word);
    expect(new Set(words).size).toBe(words.length);
  });

  it('a variable is never removed before it is deprecated', () => {
    for (const k of [MARIADB, MYSQL])
      for (const d of k.variables.filter((v) => v.kind === 'deprecated')) {
        const r = k.variables.find((v) => v.name === d.name && v.kind === 'removed');
        if (r) expect(compareVersions(r.since, d.since)).toBeGreaterThan(0);
      }
  });

  it('watched words are the union of both flavors, upper case', () => {
    const words = watchedWords();
    expect(words).toEqual(
      expect.arrayContaining(['RANK', 'GROUPS', 'LATERAL', 'OFFSET', 'ROW_NUMBER', 'VECTOR']),
    );
    expect(words.every((w) => w === w.toUpperCase())).toBe(true);
    expect(new Set(words).size).toBe(words.length);
  });

  it('every replication rule reads lower-case variable names and explains itself', () => {
    for (const r of REPLICATION_RULES) {
      expect(r.names.length).toBeGreaterThan(0);
      for (const n of r.names) expect(n).toMatch(/^[a-z_]+$/);
      expect(r.why.length).toBeGreaterThan(20);
    }
  });
});
