import {
  deadPrimaryIdentity,
  errantAcrossReplicas,
  errantDecision,
  type DeadPrimaryIdentity,
  type EmergencyNode,
} from '../../domain/emergency';
import { replicaOf } from './decisions.fixtures';

const U0 = '1f0c9a10-8f3c-11ee-9e33-0242ac120001'; // an earlier primary
const U1 = '3e11fa47-71ca-11e1-9e33-c80aa9429562'; // db1, the dead primary
const U3 = '5c9d1f22-8f3c-11ee-b3c4-0242ac120004'; // db3's own
const down = { replication: replicaOf('db1', { ioRunning: 'connecting', ioError: "Can't connect" }) };
const replica = (name: string, history: string, relay?: EmergencyNode['relay']): EmergencyNode => ({
  name,
  reachable: true,
  readOnly: true,
  ...down,
  gtidExecuted: history,
  gtidHistory: history,
  ...(relay ? { relay } : {}),
});
const MYSQL_DB1: DeadPrimaryIdentity = { known: true, uuid: U1, how: 'Source_UUID' };
const MARIADB_DB1: DeadPrimaryIdentity = { known: true, serverId: 1, how: 'Master_Server_Id' };
const errant = (
  flavor: 'mysql' | 'mariadb',
  replicas: EmergencyNode[],
  deadPrimary?: DeadPrimaryIdentity,
  last?: string,
) =>
  errantAcrossReplicas({
    flavor,
    replicas,
    deadPrimary: deadPrimary ?? (flavor === 'mysql' ? MYSQL_DB1 : MARIADB_DB1),
    ...(last !== undefined ? { lastKnownPrimaryHistory: last } : {}),
  });
const byName = (rs: ReturnType<typeof errant>) => Object.fromEntries(rs.map((r) => [r.name, r]));

describe('who the dead primary was', () => {
  const relay = (received: string, sourceServerId: number | null = 1, sourceUuid?: string | null) => ({
    received,
    sourceServerId,
    ...(sourceUuid !== undefined ? { sourceUuid } : {}),
  });

  test('MariaDB: the Master_Server_Id the replicas agree on', () => {
    const r = deadPrimaryIdentity('mariadb', [
      replica('db2', '0-1-5', relay('0-1-5')),
      replica('db3', '0-1-4', relay('0-1-4')),
    ]);
    expect(r).toEqual({ known: true, serverId: 1, how: 'Master_Server_Id of db2, db3' });
  });

  test('MariaDB: disagreeing or missing server ids are unknown, with the reason', () => {
    expect(
      deadPrimaryIdentity('mariadb', [replica('db2', '', relay('', 1)), replica('db3', '', relay('', 7))]),
    ).toEqual({ known: false, reason: 'the replicas report different source server_ids (1, 7)' });
    expect(deadPrimaryIdentity('mariadb', [replica('db2', '', relay('', null))])).toEqual({
      known: false,
      reason: "no replica reports the dead primary's server_id (Master_Server_Id)",
    });
  });

  test('MySQL: Source_UUID when the dialect read it', () => {
    const r = deadPrimaryIdentity('mysql', [replica('db2', '', relay('', 1, U1.toUpperCase()))]);
    expect(r).toEqual({ known: true, uuid: U1, how: 'Source_UUID' });
  });

  test("MySQL: otherwise the one server in every replica's Retrieved_Gtid_Set", () => {
    const r = deadPrimaryIdentity('mysql', [
      replica('db2', '', relay(`${U0}:40-50,\n${U1}:1-105`)),
      replica('db3', '', relay(`${U1}:90-100`)),
      replica('db4', '', relay('')), // restarted with relay_log_recovery: says nothing
    ]);
    expect(r).toEqual({ known: true, uuid: U1, how: "the one server in every replica's Retrieved_Gtid_Set" });
  });

  test('MySQL: ambiguous or empty relay logs are unknown', () => {
    expect(
      deadPrimaryIdentity('mysql', [
        replica('db2', '', relay(`${U0}:40-50,${U1}:1-105`)),
        replica('db3', '', relay(`${U0}:45,${U1}:9`)),
      ]),
    ).toEqual({
      known: false,
      reason: `several servers in every replica's Retrieved_Gtid_Set (${U0}, ${U1})`,
    });
    expect(deadPrimaryIdentity('mysql', [replica('db2', '', relay(''))])).toMatchObject({ known: false });
    expect(
      deadPrimaryIdentity('mysql', [
        replica('db2', '', relay('', 1, U1)),
        replica('db3', '', relay('', 1, U3)),
      ]),
    ).toMatchObject({ known: false, reason: `the replicas report different source UUIDs (${U1}, ${U3})` });
  });
});

describe('errant transactions across replicas, MySQL', () => {
  test("a replica ahead with the dead primary's transactions is not errant", () => {
    const r = byName(errant('mysql', [replica('db2', `${U1}:1-105`), replica('db3', `${U1}:1-100`)]));
    expect(r.db2).toMatchObject({ checked: true, errant: false, witnesses: ['db3'], gtids: '', count: 0 });
    expect(r.db2.summary).toBe('db2 has no errant transactions (compared with db3)');
  });

  test('a local write on a replica is errant, counted and printed', () => {
    const r = byName(
      errant('mysql', [replica('db2', `${U1}:1-105`), replica('db3', `${U1}:1-100,\n${U3}:1-2`)]),
    );
    expect(r.db3).toMatchObject({ errant: true, gtids: `${U3}:1-2`, count: 2 });
    expect(r.db3.summary).toBe(
      `db3 has 2 errant transactions that no other replica has and the dead primary did not write: ${U3}:1-2`,
    );
    expect(r.db2.errant).toBe(false);
  });

  test("an earlier primary's transactions that a peer has too are legitimate", () => {
    const r = errant('mysql', [
      replica('db2', `${U0}:1-50,${U1}:1-105`),
      replica('db3', `${U0}:1-50,${U1}:1-100`),
    ]);
    expect(r.map((x) => x.errant)).toEqual([false, false]);
  });

  test('more of an earlier server than any peer has is errant', () => {
    const r = byName(
      errant('mysql', [replica('db2', `${U0}:1-52,${U1}:1-105`), replica('db3', `${U0}:1-50,${U1}:1-100`)]),
    );
    expect(r.db2).toMatchObject({ errant: true, gtids: `${U0}:51-52`, count: 2 });
  });

  test("every tag of the dead primary's UUID is its own (MySQL 8.4 tagged GTIDs)", () => {
    const r = errant('mysql', [replica('db2', `${U1}:1-105:batch:1-3`), replica('db3', `${U1}:1-100`)]);
    expect(r[0].errant).toBe(false);
  });

  test("the dead primary's identity unknown: what a replica got from it first counts, and the summary says why", () => {
    const unknown: DeadPrimaryIdentity = { known: false, reason: 'no Source_UUID' };
    const r = byName(
      errant('mysql', [replica('db2', `${U1}:1-105`), replica('db3', `${U1}:1-100`)], unknown),
    );
    expect(r.db2).toMatchObject({ errant: true, gtids: `${U1}:101-105`, count: 5 });
    expect(r.db2.summary).toMatch(
      /the dead primary's identity is unknown, so what db2 got from it first counts too: no Source_UUID\)$/,
    );
  });

  test('a single replica has nothing to compare with: not checked, unless the last known primary state is given', () => {
    const alone = [replica('db2', `${U0}:1-50,${U1}:1-105`)];
    expect(errant('mysql', alone)[0]).toMatchObject({
      checked: false,
      errant: false,
      summary:
        'db2 not checked: no other replica and no last known state of the dead primary to compare with',
    });
    const withLast = errant(
      'mysql',
      [replica('db2', `${U0}:1-50,${U1}:1-105,${U3}:1`)],
      undefined,
      `${U0}:1-50,${U1}:1-90`,
    )[0];
    expect(withLast).toMatchObject({
      checked: true,
      errant: true,
      gtids: `${U3}:1`,
      witnesses: ['last known primary state'],
    });
  });

  test('an unreachable replica is not checked and is no witness', () => {
    const gone: EmergencyNode = { ...replica('db3', `${U1}:1-100`), reachable: false, error: 'timeout' };
    const r = byName(errant('mysql', [replica('db2', `${U1}:1-105,${U3}:1`), gone]));
    expect(r.db3).toMatchObject({ checked: false, summary: 'db3 not checked: unreachable (timeout)' });
    expect(r.db2).toMatchObject({ checked: false });
  });
});

describe('errant transactions across replicas, MariaDB (gtid_binlog_state)', () => {
  test("ahead on the dead primary's server id is not errant", () => {
    expect(
      errant('mariadb', [replica('db2', '0-1-105'), replica('db3', '0-1-100')]).map((r) => r.errant),
    ).toEqual([false, false]);
  });

  test('a local write (own server id) is errant, printed with what the others have', () => {
    const r = byName(errant('mariadb', [replica('db2', '0-1-105'), replica('db3', '0-1-100,0-3-101')]));
    expect(r.db3).toMatchObject({
      errant: true,
      count: null,
      gtids: '0-3-101 (no other has anything from server 3 in domain 0)',
    });
  });

  test("an earlier primary's entries present in a peer's state at that seq or beyond are legitimate", () => {
    const r = errant('mariadb', [
      replica('db2', '0-1-105,0-2-50'),
      replica('db3', '0-1-100,0-2-50'),
      replica('db4', '0-2-50,0-1-90'),
    ]);
    expect(r.map((x) => x.errant)).toEqual([false, false, false]);
  });

  test('a higher seq of an earlier server than any peer has is errant', () => {
    const r = byName(errant('mariadb', [replica('db2', '0-1-105,0-2-52'), replica('db3', '0-1-100,0-2-50')]));
    expect(r.db2.gtids).toBe('0-2-52 (others have up to 0-2-50)');
  });

  test("the dead primary's entries in another domain are its own too", () => {
    expect(errant('mariadb', [replica('db2', '0-1-105,1-1-7'), replica('db3', '0-1-100')])[0].errant).toBe(
      false,
    );
  });
});

describe('errant decision (policy errantGtids)', () => {
  const reports = errant('mysql', [replica('db2', `${U1}:1-105,${U3}:1`), replica('db3', `${U1}:1-100`)]);

  test('abort: errant transactions on the candidate refuse, saying how to proceed', () => {
    const d = errantDecision({ policy: 'abort', candidate: 'db2', reports });
    expect(d.ok).toBe(false);
    if (!d.ok)
      expect(d.refusal).toBe(
        `db2 has 1 errant transaction that no other replica has and the dead primary did not write: ${U3}:1: promoting db2 would ship them to every replica (and break replication if they are gone from its binary logs); remove them or choose another candidate, or set policy errantGtids: ignore`,
      );
  });

  test('ignore: promoted anyway, with a warning', () => {
    const d = errantDecision({ policy: 'ignore', candidate: 'db2', reports });
    expect(d).toEqual({
      ok: true,
      warnings: [`${reports[0].summary}; promoted anyway (policy errantGtids: ignore)`],
    });
  });

  test('errant transactions on another replica only warn, whatever the policy', () => {
    const d = errantDecision({ policy: 'abort', candidate: 'db3', reports });
    expect(d).toEqual({
      ok: true,
      warnings: [
        `${reports[0].summary}; it will be repointed as it is and must not be promoted before they are removed`,
      ],
    });
  });

  test('unchecked replicas are warned about; a clean candidate goes', () => {
    const alone = errant('mysql', [replica('db2', `${U1}:1-105`)]);
    expect(errantDecision({ policy: 'abort', candidate: 'db2', reports: alone })).toEqual({
      ok: true,
      warnings: [alone[0].summary],
    });
  });
});
