// No traffic router: clients find the primary some other way (DNS, the application's own config).
import type { Holders, PlannedCommand, RouterResult, TrafficOp, TrafficRouter } from './types';

const NOTHING = 'no traffic router configured';

export class NoneRouter implements TrafficRouter {
  readonly type = 'none' as const;

  async detach(host: string): Promise<RouterResult> {
    return { host, op: 'detach', ok: true, changed: false, routed: false, detail: NOTHING };
  }

  async attach(host: string): Promise<RouterResult> {
    // Clients find the primary themselves: nothing here routes them.
    return { host, op: 'attach', ok: true, changed: false, routed: false, detail: NOTHING };
  }

  async holders(): Promise<Holders> {
    return { holders: [], unknown: [] };
  }

  plan(_op: TrafficOp, _host: string): PlannedCommand[] {
    return [{ on: 'nothing', command: NOTHING }];
  }
}
