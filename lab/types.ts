// The lab's options, what it reports, and the state file that records exactly what it created.

export type LabMode = 'netns' | 'loopback';

export interface LabOptions {
  /**
   * A fleet: this many small clusters fleet01..fleetNN on one bridge (lab/fleet.ts), each with its
   * own VIP or HAProxy frontend. 0 or absent: the single cluster `lab`.
   */
  clusters?: number;
  /** MariaDB hosts per cluster (db1 is the primary). Default 3; 2 in a fleet or a pair. */
  hosts?: number;
  /** netns (default as root) or loopback (no root needed). */
  mode?: LabMode;
  semiSync?: boolean;
  /**
   * A master-master pair (seeds 003, 004): two hosts, db1 the writer also replicating from db2;
   * with HAProxy (loopback) db2 is db1's `backup` server.
   */
  masterMaster?: boolean;
  /** Prefix of namespaces and links (netns mode). Default "so". */
  prefix?: string;
  /** /24 for the lab bridge (netns mode). Default 10.99.0.0/24. */
  subnet?: string;
  /** Lab directory: data, sockets, logs, secrets, inventory, state. Default <repo>/.lab. */
  dir?: string;
  /** First MariaDB port in loopback mode (db1); default 13306. The HAProxy writer listens on base+100. */
  basePort?: number;
  /** Add mysqld_exporters, Prometheus and Alertmanager posting to the webhook receiver (lab/alerting.ts). */
  alerting?: boolean;
  /** Where the webhook receiver listens (started with the Temporal hook, or by the caller); default free. */
  webhookPort?: number;
  /** Start the Temporal dev server and a worker for the lab inventory (hook, see lab/temporal.ts). */
  temporal?: boolean;
  /** Temporal dev server ports (default: free ones, printed by `lab up`). */
  temporalPort?: number;
  temporalUiPort?: number;
  /** Progress lines (the CLI prints them; tests leave them out). */
  log?: (line: string) => void;
}

export interface LabHost {
  name: string;
  /** Where clients reach it: the namespace's address, or 127.0.0.1 in loopback mode. */
  address: string;
  port: number;
  /** Network namespace (netns mode), else null. */
  netns: string | null;
  pid: number | null;
  /** Unix socket: the lab (and tests) reach every host through it, even when partitioned. */
  socket: string;
  /** In a fleet: the host's cluster (its name is then "<cluster>/<host>"); absent in the lab `lab`. */
  cluster?: string;
  /** In a fleet: the inventory's `machine:` (m1 runs every cluster's db1, m2 every db2...). */
  machine?: string;
}

/** One cluster of the lab: `lab` alone, or fleet01..fleetNN. */
export interface LabCluster {
  name: string;
  /** The inventory's labels (fleet: { fleet: lab, index: "01" }); empty for `lab`. */
  labels: Record<string, string>;
  hosts: LabHost[];
  writer: { host: string; port: number };
  vip: { address: string; interface: 'eth0' } | null;
  haproxy: { runtimeApi: string; backend: string; pid: number | null } | null;
}

export interface LabInfo {
  /** `lab`; in a fleet the first cluster's name (fleet01): see clusters. */
  cluster: string;
  /** Path of the inventory file. */
  inventory: string;
  mode: LabMode;
  dir: string;
  prefix: string;
  /** Every host of every cluster (a fleet's are named "fleet01/db1"). */
  hosts: LabHost[];
  /**
   * Where applications write: the VIP (netns) or the HAProxy writer frontend (loopback). These
   * three are the first cluster's: a fleet's other clusters are in `clusters`.
   */
  writer: { host: string; port: number };
  vip: { address: string; interface: 'eth0' } | null;
  haproxy: { runtimeApi: string; backend: string; pid: number | null } | null;
  /** Every cluster with its hosts and writer (one, `lab`, unless a fleet); absent in older state files. */
  clusters?: LabCluster[];
  /** The alerting chain (`--alerting`); null otherwise. */
  alerting: {
    prometheus: string;
    alertmanager: string;
    /** The webhook receiver Alertmanager posts to (http://127.0.0.1:port). */
    webhook: string;
    webhookPort: number;
    /** Where the lab's worker serves /metrics (the Temporal hook starts it with that port). */
    workerMetricsPort: number;
    /** Host -> its exporter's /metrics. */
    exporters: Record<string, string>;
  } | null;
  /** Set by the Temporal hook when it started the dev server; null otherwise. */
  temporal: { address: string; ui: string } | null;
  /** The application account: privileges on database `app` only, so read_only stops it. */
  app: { user: string; passwordFile: string; database: string };
  /** Secret files (mode 0600); the inventory refers to them. */
  secrets: {
    mysqlPasswordFile: string;
    replicationPasswordFile: string;
    sshPrivateKeyFile: string | null;
    /** The bearer token alert senders give the webhook receiver. */
    webhookTokenFile: string;
  };
  semiSync: boolean;
  /** A master-master pair (db1 <-> db2); optional in older state files. */
  masterMaster?: boolean;
}

export interface HostStatus extends LabHost {
  up: boolean;
  /** primary: writable and not replicating; replica: has a source; down: no answer. */
  role: 'primary' | 'replica' | 'read-only' | 'down';
  readOnly: boolean | null;
  holdsVip: boolean | null;
  partitioned: boolean;
  ioRunning: string | null;
  sqlRunning: string | null;
  gtidCurrentPos: string | null;
  lastError: string | null;
}

export interface LabStatus extends LabInfo {
  up: boolean;
  hosts: HostStatus[];
  /** Hosts (lab-wide names) that receive the writer's traffic, every cluster's. */
  vipHolders: string[];
  clusters: (Omit<LabCluster, 'hosts'> & { hosts: HostStatus[]; vipHolders: string[] })[];
}

/** What `lab up` made, recorded as it goes, so `lab down` removes exactly that. */
export interface LabState {
  version: 1;
  /** False until `lab up` finished: a half-built lab. */
  complete: boolean;
  startedAt: string;
  upMs?: number;
  options: Required<
    Omit<
      LabOptions,
      | 'log'
      | 'dir'
      | 'temporal'
      | 'temporalPort'
      | 'temporalUiPort'
      | 'alerting'
      | 'webhookPort'
      | 'masterMaster'
      | 'clusters'
    >
  > & {
    temporal: boolean;
    /** A fleet's number of clusters; 0 (or absent, older state files): the single cluster `lab`. */
    clusters?: number;
    /** Optional in older state files. */
    masterMaster?: boolean;
    /** Optional in older state files. */
    alerting?: boolean;
    webhookPort?: number;
  };
  dir: string;
  /** We created the lab dir itself (then `down` removes it when empty). */
  createdDir: boolean;
  /** We created /run/sshd (Debian's sshd needs it). */
  createdRunSshd: boolean;
  bridge: string | null;
  netns: string[];
  /** Bridge-side veth names (deleting the namespace removes the pair anyway). */
  links: string[];
  processes: {
    role:
      | 'mariadbd'
      | 'sshd'
      | 'haproxy'
      | 'temporal'
      | 'worker'
      | 'webhook'
      | 'exporter'
      | 'prometheus'
      | 'alertmanager';
    host: string | null;
    pid: number;
  }[];
  /** Files and directories under the lab dir we created, in creation order. */
  paths: string[];
  /** How to start each host's mariadbd again (`lab start`). */
  servers: Record<string, { config: import('./mariadb').ServerConfig; netns: string | null }>;
  info: LabInfo | null;
}
