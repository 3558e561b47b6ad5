import type { Cluster, Host } from '../../domain/inventory';
import { ErrorType, nonRetryable } from '../errors';

/** The inventory host of that name, or a non-retryable error listing the known ones. */
export function hostOf(cluster: Cluster, name: string): Host {
  const h = cluster.hosts.find((x) => x.name === name);
  if (!h)
    throw nonRetryable(
      ErrorType.BadConfiguration,
      `unknown host "${name}" in cluster ${cluster.name}: expected one of ${cluster.hosts.map((x) => x.name).join(', ')}`,
    );
  return h;
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
