import type { PoolConnection } from 'mysql2/promise';
import { dialectFor } from '../../domain/dialects';
import { execute } from '../../activities/sql/run';
import { classifySqlError } from '../../activities/errors';

// A connection that fails the way mysql2 does on a syntax error: the message quotes the statement.
function failingConnection(): PoolConnection {
  return {
    query: async ({ sql }: { sql: string }) => {
      if (!sql.startsWith('CHANGE')) return [[], []];
      throw Object.assign(
        new Error(`You have an error in your SQL syntax; check the manual near '${sql.slice(20)}' at line 1`),
        {
          code: 'ER_PARSE_ERROR',
          errno: 1064,
          sql,
          sqlMessage: `You have an error in your SQL syntax; check the manual near '${sql.slice(20)}' at line 1`,
        },
      );
    },
  } as unknown as PoolConnection;
}

test('a failing statement with a password never carries the password out', async () => {
  const statements = dialectFor('mariadb').repoint({
    sourceHost: 'db2',
    sourcePort: 3306,
    user: 'repl',
    password: 'hunter2',
  });
  const err = await execute(failingConnection(), statements).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toMatchObject({ errno: 1064, code: 'ER_PARSE_ERROR' });
  expect(JSON.stringify(err)).not.toContain('hunter2');
  expect((err as Error).message).not.toContain('hunter2');
  expect((err as Error).message).toContain("MASTER_PASSWORD='***'");
  const failure = classifySqlError('db1', 'repoint to db2', err);
  expect(failure.message).toMatch(/^repoint to db2 on db1: .*MASTER_PASSWORD='\*\*\*'/);
  expect(failure.message).not.toContain('hunter2');
  expect(failure.nonRetryable).toBe(true);
});

test('statements without secrets fail with the original error', async () => {
  const original = new Error('boom');
  const c = { query: async () => Promise.reject(original) } as unknown as PoolConnection;
  await expect(execute(c, dialectFor('mysql').readOnlyOff())).rejects.toBe(original);
});
