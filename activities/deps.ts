// What the activity factory receives. Secrets live only here, on the worker: they never enter
// workflow inputs, results or history.
import type { Client } from '@temporalio/client';
import type { Inventory } from '../domain/inventory';

export interface Account {
  user: string;
  password: string;
}

export interface Secrets {
  /** The account successover uses for administration (needs SUPER/READ_ONLY ADMIN, REPLICATION *). */
  mysql: Account;
  /** The account replicas use to connect to their source. */
  replication: Account;
  ssh?: { user: string; privateKey: Buffer };
}

export interface ActivityDeps {
  inventory: Inventory;
  secrets: Secrets;
  /** For activities that talk to Temporal itself (the cluster lock). */
  temporal?: { client: Client; taskQueue: string };
}
