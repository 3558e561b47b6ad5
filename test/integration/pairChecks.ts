// What a master-master pair must look like after every run, read from the servers and the kernel
// (or HAProxy), not through the code under test.
import { labStatus } from '../../lab/index';
import { slaveStatus, type LabFixture } from './labFixture';

/** `primary` the one writable node and traffic holder; both directions replicating, no error. */
export async function expectPair(lab: Pick<LabFixture, 'dir' | 'info'>, primary: string): Promise<void> {
  const { info } = lab;
  const s = await labStatus({ dir: lab.dir });
  expect(s.vipHolders).toEqual([primary]);
  expect(s.hosts.filter((h) => h.readOnly === false).map((h) => h.name)).toEqual([primary]);
  for (const h of info.hosts) {
    const source = info.hosts.find((x) => x.name !== h.name)!;
    // A repointed side may still be connecting: give it a moment, then it must stream.
    let st = await slaveStatus(info, h.name);
    for (let i = 0; i < 20 && st?.Slave_IO_Running !== 'Yes'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      st = await slaveStatus(info, h.name);
    }
    expect([
      h.name,
      st?.Master_Host,
      st?.Master_Port,
      st?.Slave_IO_Running,
      st?.Slave_SQL_Running,
      st?.Last_IO_Error,
      st?.Last_SQL_Error,
    ]).toEqual([h.name, source.address, source.port, 'Yes', 'Yes', '', '']);
  }
}
