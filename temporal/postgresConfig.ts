// The configuration files of the PostgreSQL-backed Temporal: the server's (persistence on the
// postgres12 plugin, SQL visibility, every service on loopback ports of its own), its dynamic
// config, and the UI server's. Pure: paths, ports and the password in, YAML text out.
import { stringify } from 'yaml';
import { DATABASES, DB_USER } from './postgresDb';
import { dynamicConfigEntries } from './dynamicConfig';

/** Every port the server, the UI and PostgreSQL listen on (all on 127.0.0.1). */
export interface Ports {
  frontend: number;
  frontendHttp: number;
  history: number;
  matching: number;
  worker: number;
  frontendMembership: number;
  historyMembership: number;
  matchingMembership: number;
  workerMembership: number;
  ui: number;
  postgres: number;
}

/**
 * History shards are fixed when the cluster is first created (the server refuses another count
 * later). 4 keeps a 2-core box idle; a fleet sizes it for its peak (Temporal suggests 512 to 4096
 * for production clusters), once, before the first start.
 */
export const HISTORY_SHARDS = 4;
export const IP = '127.0.0.1';

export interface ServerConfigInput {
  ports: Ports;
  password: string;
  dynamicConfigFile: string;
}

function store(databaseName: string, ports: Ports, password: string, maxConns: number) {
  return {
    sql: {
      pluginName: 'postgres12',
      databaseName,
      connectAddr: `${IP}:${ports.postgres}`,
      connectProtocol: 'tcp',
      user: DB_USER,
      password,
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  };
}

const rpc = (grpcPort: number, membershipPort: number, httpPort?: number) => ({
  rpc: { grpcPort, membershipPort, bindOnIP: IP, ...(httpPort ? { httpPort } : {}) },
});

export function serverConfigYaml(i: ServerConfigInput): string {
  const { ports } = i;
  const config = {
    log: { stdout: true, level: 'info' },
    persistence: {
      numHistoryShards: HISTORY_SHARDS,
      defaultStore: 'postgres-default',
      visibilityStore: 'postgres-visibility',
      datastores: {
        // Each of the four services opens its own pools: 4 x (20 + 10) stays under the
        // instance's max_connections (200).
        'postgres-default': store(DATABASES.default, ports, i.password, 20),
        'postgres-visibility': store(DATABASES.visibility, ports, i.password, 10),
      },
    },
    global: { membership: { maxJoinDuration: '30s', broadcastAddress: IP } },
    services: {
      frontend: rpc(ports.frontend, ports.frontendMembership, ports.frontendHttp),
      history: rpc(ports.history, ports.historyMembership),
      matching: rpc(ports.matching, ports.matchingMembership),
      worker: rpc(ports.worker, ports.workerMembership),
    },
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: {
        active: {
          enabled: true,
          initialFailoverVersion: 1,
          rpcName: 'frontend',
          rpcAddress: `${IP}:${ports.frontend}`,
          httpAddress: `${IP}:${ports.frontendHttp}`,
        },
      },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } },
    namespaceDefaults: { archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } } },
    publicClient: { hostPort: `${IP}:${ports.frontend}` },
    dynamicConfigClient: { filepath: i.dynamicConfigFile, pollInterval: '10s' },
  };
  return (
    '# Written by successover (temporal/postgresConfig.ts) at every start: edits here are lost.\n' +
    `# numHistoryShards ${HISTORY_SHARDS} suits one 2-core box; a fleet picks 512 or more before its\n` +
    '# first start (it cannot change afterwards).\n' +
    stringify(config)
  );
}

/**
 * Dynamic config: the server's defaults but the visibility rate, which the UI and the CLI's
 * listings exceed at 10/s (the dev server raises it the same way), and what every server that runs
 * successover gets (dynamicConfig.ts). The search-attribute cache stays on (the dev server turns it
 * off for tests; production keeps it).
 */
export function dynamicConfigYaml(): string {
  return stringify({
    'frontend.namespaceRPS.visibility': [{ value: 100, constraints: {} }],
    ...dynamicConfigEntries(),
  });
}

/** The UI server's config (github.com/temporalio/ui-server, as the CLI embeds it). */
export function uiConfigYaml(ports: Ports, namespace: string): string {
  return stringify({
    temporalGrpcAddress: `${IP}:${ports.frontend}`,
    host: IP,
    port: ports.ui,
    enableUi: true,
    defaultNamespace: namespace,
    // Plain HTTP on loopback, as the dev server's UI.
    cors: { cookieInsecure: true },
    hideLogs: true,
  });
}
