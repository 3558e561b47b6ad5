// A master-master pair behind HAProxy as seed 003 builds it (loopback lab): db1 the active server,
// db2 its `backup`; the successover moves the writes through the runtime API and keeps the pair.
import { lostThrough } from '../../bench/harness';
import { Writer } from '../../bench/writer';
import { backendServers } from '../../lab/runtimeApi';
import { blackouts, expectPair, switchBackAndForth } from './pairChecks';
import { startLab, type LabFixture } from './labFixture';
import { withWorker } from './temporal';

let lab: LabFixture;
beforeAll(async () => {
  lab = await startLab({ mode: 'loopback', hosts: 2, masterMaster: true });
});
afterAll(async () => {
  await lab?.down();
});

const servers = async () => {
  const { runtimeApi, backend } = lab.info.haproxy!;
  return (await backendServers(runtimeApi.replace(/^unix:/, ''), backend)).map((s) => [
    s.name,
    s.backup,
    s.holder,
  ]);
};

test('10 planned successovers through HAProxy with a backup standby: the pair kept, nothing lost', async () => {
  expect(await servers()).toEqual([
    ['db1', false, true],
    ['db2', true, false],
  ]);
  await expectPair(lab, 'db1');
  await withWorker(lab.info.inventory, async (ctx) => {
    const writer = Writer.forLab(lab.info);
    const { results: runs, primary } = await switchBackAndForth(lab, ctx, writer, 10);
    console.log(
      `master-master through HAProxy, 10 runs: ${blackouts(runs)}; longest client gap ${writer.maxGapMs()} ms; ${writer.acked.length} acknowledged writes`,
    );
    // db2 stays the backup whoever writes: the switch is db1's maintenance state.
    expect((await servers()).map(([name, backup]) => [name, backup])).toEqual([
      ['db1', false],
      ['db2', true],
    ]);
    expect(writer.acked.length).toBeGreaterThan(500);
    expect(await lostThrough(lab.info, primary, writer)).toEqual([]);
  });
});
