// restartPlan (activities/provision/checksum.ts): how a replica the checksum may have stopped is
// started again, for both flavors.
import { dialectFor } from '../../domain/dialects';
import { restartPlan } from '../../activities/provision/checksum';

const sql = (plan: ReturnType<typeof restartPlan>) =>
  'statements' in plan ? plan.statements.map((s) => s.sql) : plan;

describe('restartPlan', () => {
  test('a STOP before the START, so a replica still applying towards an UNTIL loses it', () => {
    expect(sql(restartPlan(dialectFor('mariadb'), { lastSqlError: '' }))).toEqual([
      'STOP SLAVE',
      'START SLAVE',
    ]);
    expect(sql(restartPlan(dialectFor('mysql'), { lastSqlError: '' }))).toEqual([
      'STOP REPLICA SQL_THREAD',
      'START REPLICA',
    ]);
  });

  test('not a replica: nothing to start', () => {
    expect(restartPlan(dialectFor('mariadb'), null)).toEqual({ leave: 'not a replica: nothing to start' });
  });

  test('stopped on an SQL error: left for a human, the error named', () => {
    const plan = restartPlan(dialectFor('mysql'), { lastSqlError: "Duplicate entry '1' for key 'PRIMARY'" });
    expect(plan).toEqual({
      leave: "its SQL thread stopped on an error, left for a human: Duplicate entry '1' for key 'PRIMARY'",
    });
  });
});
