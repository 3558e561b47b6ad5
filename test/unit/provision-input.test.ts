import { parseInput, ProvisionReplicaInputSchema, RUNBOOKS } from '../../domain/runbook';
import { provisionWorkflowId } from '../../workflows/api';

const parse = (raw: unknown) => parseInput(ProvisionReplicaInputSchema, RUNBOOKS.provision, raw);

describe('provision-replica input', () => {
  test('defaults: no primary donor, no wipe, checksum, caught up at lag 1 s', () => {
    expect(parse({ cluster: 'lab', host: 'db4' })).toEqual({
      cluster: 'lab',
      host: 'db4',
      allowPrimaryDonor: false,
      wipe: false,
      verify: 'checksum',
      maxLagSeconds: 1,
      catchUpTimeoutSeconds: 3600,
      copyTimeoutSeconds: 6 * 3600,
      lockTimeoutSeconds: 900,
    });
  });

  test('every field given', () => {
    expect(
      parse({
        cluster: 'lab',
        host: 'db4',
        donor: 'db2',
        method: 'physical',
        allowPrimaryDonor: true,
        wipe: true,
        verify: 'none',
        maxLagSeconds: 0,
        catchUpTimeoutSeconds: 60,
        copyTimeoutSeconds: 600,
        lockTimeoutSeconds: 0,
      }),
    ).toMatchObject({ donor: 'db2', method: 'physical', verify: 'none', maxLagSeconds: 0 });
  });

  test('bad input names every field at fault', () => {
    expect(() =>
      parse({
        cluster: 'lab',
        host: '../x',
        method: 'rsync',
        verify: 'maybe',
        copyTimeoutSeconds: 0,
        extra: 1,
      }),
    ).toThrow(
      'invalid provision-replica input: host: expected a host name from the inventory; method: Invalid option: expected one of "logical"|"physical"; verify: Invalid option: expected one of "checksum"|"none"; copyTimeoutSeconds: Too small: expected number to be >0; unknown field "extra"',
    );
    expect(() => parse({ cluster: 'lab' })).toThrow(/host: /);
  });

  test('one workflow id per host', () => {
    expect(provisionWorkflowId('lab', 'db4')).toBe('provision-replica/lab/db4');
  });
});
