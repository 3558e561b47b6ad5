// The server settings every Temporal that runs successover gets, as each kind of server reads them.
import { parse } from 'yaml';
import { devServerDynamicConfigArgs, SERVER_DYNAMIC_CONFIG } from '../../temporal/dynamicConfig';
import { dynamicConfigYaml } from '../../temporal/postgresConfig';

test('eager activity execution is among the settings', () => {
  expect(SERVER_DYNAMIC_CONFIG['system.enableActivityEagerExecution']).toBe(true);
});

test('the dev server gets each setting as a --dynamic-config-value KEY=JSON pair', () => {
  const args = devServerDynamicConfigArgs();
  expect(args.length).toBe(2 * Object.keys(SERVER_DYNAMIC_CONFIG).length);
  expect(args.slice(0, 2)).toEqual(['--dynamic-config-value', 'system.enableActivityEagerExecution=true']);
  for (let i = 0; i < args.length; i += 2) {
    expect(args[i]).toBe('--dynamic-config-value');
    const [key, value] = args[i + 1].split(/=(.*)/s);
    expect(JSON.parse(value)).toEqual(SERVER_DYNAMIC_CONFIG[key]);
  }
});

test('the PostgreSQL-backed server gets each setting for every namespace, beside its own', () => {
  const file = parse(dynamicConfigYaml()) as Record<string, { value: unknown; constraints: object }[]>;
  for (const [key, value] of Object.entries(SERVER_DYNAMIC_CONFIG))
    expect(file[key]).toEqual([{ value, constraints: {} }]);
  expect(file['frontend.namespaceRPS.visibility']).toEqual([{ value: 100, constraints: {} }]);
});
