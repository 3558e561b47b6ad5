// A host given in a provision run's input joins the worker's inventory file: checked against the
// cluster (domain/provision/newHost.ts), its SSH host key proven by a login, then written, so this
// run's next activities and every later runbook know it. Workers sharing a task queue must share
// the file (a volume, configuration management): a worker with its own copy does not see the host.
import { ApplicationFailure } from '@temporalio/common';
import type { Host } from '../domain/inventory';
import { checkNewHost, type AddInventoryHostResult } from '../domain/provision/newHost';
import type { ActivityDeps } from './deps';
import { FailureType, nonRetryable } from './errors';
import { clusterOf } from './lookup';
import type { SshPool } from './ssh';

export function createInventoryActivities(deps: ActivityDeps, shared: { ssh?: SshPool }) {
  function file() {
    if (!deps.inventoryFile)
      throw nonRetryable(
        FailureType.BadConfiguration,
        "this worker's inventory is not a file it can write: add the host to the inventory instead of giving newHost",
      );
    return deps.inventoryFile;
  }

  return {
    async addInventoryHost(input: { cluster: string; host: Host }): Promise<AddInventoryHostResult> {
      const inventory = file();
      const { host } = input;
      const check = checkNewHost(clusterOf(deps.inventory, input.cluster), host);
      if (!check.ok)
        throw nonRetryable(FailureType.Refused, `newHost ${host.name}: ${check.problems.join('; ')}`);
      if (check.present) return { added: false, inventoryFile: inventory.path };
      // The pinned key is proven before it is written: a wrong key (or another machine at that
      // address) never enters the inventory.
      if (host.ssh) {
        if (!shared.ssh)
          throw nonRetryable(
            FailureType.BadConfiguration,
            `newHost ${host.name} is reached over SSH: add credentials.ssh (user, privateKeyFile) to the inventory`,
          );
        const r = await shared.ssh
          .exec(host, 'true', { timeoutMs: 15_000, ownChannel: true })
          .catch((e: unknown) => {
            if (e instanceof ApplicationFailure && e.type === FailureType.HostKeyMismatch)
              throw nonRetryable(FailureType.Refused, `newHost ${host.name}: ${e.message}`);
            throw e;
          });
        if (r.code !== 0)
          throw nonRetryable(
            FailureType.Refused,
            `newHost ${host.name}: the SSH login works but \`true\` exited ${r.code}: ${r.stderr.trim()}`,
          );
      }
      try {
        await inventory.addHost(input.cluster, host);
      } catch (e) {
        throw nonRetryable(
          FailureType.BadConfiguration,
          `newHost ${host.name} could not be written to ${inventory.path}: ${(e as Error).message}; add it to the inventory yourself and leave newHost out`,
        );
      }
      return { added: true, inventoryFile: inventory.path };
    },

    /** Undoes addInventoryHost for a run that was refused before it changed anything. */
    async removeInventoryHost(input: { cluster: string; host: string }): Promise<void> {
      await file().removeHost(input.cluster, input.host);
    },
  };
}
