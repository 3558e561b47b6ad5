// What the activity factory receives. Secrets live only here, on the worker: they never enter
// workflow inputs, results or history.
import type { Client } from '@temporalio/client';
import type { Host, Inventory } from '../domain/inventory';
import type { EmergencyRecoveryInput, StartedRecovery } from '../domain/runbook';

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

/** The worker's inventory file, for hosts a run adds (worker/inventoryFile.ts). */
export interface InventoryWriter {
  readonly path: string;
  addHost(cluster: string, host: Host): Promise<Inventory>;
  removeHost(cluster: string, name: string): Promise<Inventory>;
}

export interface ActivityDeps {
  /** Read at each use: the worker re-reads its inventory file when it changes. */
  readonly inventory: Inventory;
  inventoryFile?: InventoryWriter;
  secrets: Secrets;
  /** For activities that talk to Temporal itself (the cluster lock, the detector's trigger). */
  temporal?: {
    client: Client;
    taskQueue: string;
    /**
     * Starts (or joins) the cluster's emergency recovery, as every trigger does (triggers/start.ts).
     * Given by the worker: an activity module importing a workflow would close an import cycle.
     */
    startEmergencyRecovery(input: EmergencyRecoveryInput): Promise<StartedRecovery>;
  };
}
