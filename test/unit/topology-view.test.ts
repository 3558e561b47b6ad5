import { renderTree } from '../../cli/commands/topology';
import { toView } from '../../domain/topology';
import { replicaOf, topology } from './decisions.fixtures';

describe('topology tree', () => {
  test('replicas indent under their source; errors and traffic show', () => {
    const t = topology({
      db3: { replication: replicaOf('db2', { sqlRunning: false, sqlError: 'Duplicate entry' }) },
    });
    const view = t.nodes.map(toView);
    expect(renderTree({ topology: t, trafficHolders: ['db1'], view }, 'db1').split('\n')).toEqual([
      'db1 [primary,rw,10.11.6-MariaDB,writer-traffic]',
      '  + db2 [replica,ro,10.11.6-MariaDB,io:yes,sql:yes,lag:0s]',
      '    + db3 [replica,ro,10.11.6-MariaDB,io:yes,sql:no,lag:0s] ERROR: Duplicate entry',
    ]);
  });
  test('a node with no known source is listed at the top level', () => {
    const t = topology({
      db2: {
        reachable: false,
        readOnly: undefined,
        replication: null,
        version: undefined,
        error: 'connect ETIMEDOUT',
      },
    });
    const lines = renderTree({ topology: t, trafficHolders: null, view: t.nodes.map(toView) }, 'db1').split(
      '\n',
    );
    expect(lines).toContain('db2 [unknown,?,?] ERROR: connect ETIMEDOUT');
  });
});
