// Where Temporal is: @temporalio/envconfig reads TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
// TEMPORAL_API_KEY, TEMPORAL_TLS_*, TEMPORAL_PROFILE and the temporal.toml config file, like the
// temporal CLI does. Default: localhost:7233, namespace default.
import { Client, Connection } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { NativeConnection } from '@temporalio/worker';

export const DEFAULT_ADDRESS = 'localhost:7233';
export const DEFAULT_NAMESPACE = 'default';

export function temporalConfig(env: NodeJS.ProcessEnv = process.env) {
  const overrideEnvVars =
    env === process.env
      ? undefined
      : Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
  const cfg = loadClientConnectConfig({ overrideEnvVars });
  return {
    connectionOptions: {
      ...cfg.connectionOptions,
      address: cfg.connectionOptions.address ?? DEFAULT_ADDRESS,
    },
    namespace: cfg.namespace ?? DEFAULT_NAMESPACE,
  };
}

/** A client for starting and watching runs. Close client.connection when done. */
export async function connectClient(env?: NodeJS.ProcessEnv): Promise<Client> {
  const { connectionOptions, namespace } = temporalConfig(env);
  const connection = await Connection.connect(connectionOptions);
  return new Client({ connection, namespace });
}

/** The worker's connection, with the namespace it must poll. */
export async function connectWorker(
  env?: NodeJS.ProcessEnv,
): Promise<{ connection: NativeConnection; namespace: string; address: string }> {
  const { connectionOptions, namespace } = temporalConfig(env);
  const connection = await NativeConnection.connect(connectionOptions);
  return { connection, namespace, address: connectionOptions.address };
}
