// Shows what a worker knows about a cluster: the smallest runbook, and the check that a worker
// serves the task queue with the inventory you expect.
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ClusterSpec } from '../domain/inventory';

const { loadClusterSpec } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { maximumAttempts: 5 },
  summary: 'Load the cluster spec from the inventory (without secrets)',
});

export interface DescribeClusterInput {
  cluster: string;
}

export async function describeCluster({ cluster }: DescribeClusterInput): Promise<ClusterSpec> {
  return loadClusterSpec({ cluster });
}
