// The ports of the PostgreSQL-backed Temporal: the three a user sees (frontend, UI, PostgreSQL)
// and the services' internal ones, kept across restarts while they stay free.
import { freePort, portFree } from './devserver';
import { IP, type Ports } from './postgresConfig';

/**
 * A free port for a service's gRPC or membership listener. Below 32768: the membership table
 * keeps ports as SMALLINT (the server dies at start with "out of range for type smallint" on a
 * port from the kernel's ephemeral range, 32768 and up).
 */
async function freeInternalPort(taken: Set<number>): Promise<number> {
  const [low, high] = [20000, 32767];
  const first = low + Math.floor(Math.random() * (high - low));
  for (let i = 0; i < high - low; i++) {
    const p = low + ((first - low + i) % (high - low));
    if (!taken.has(p) && (await portFree(p, IP))) return p;
  }
  throw new Error(`no free port in ${low}-${high} on ${IP}`);
}

/**
 * The ports of a running part are the recorded ones (flags cannot move it). Otherwise the flags,
 * else the recorded ports while still free (the cluster's membership rows name them), else new
 * free ones; the frontend and the UI default to the dev server's 7233 and 8233.
 */
export async function choosePorts(
  o: { port?: number; uiPort?: number; pgPort?: number },
  had: Partial<Ports>,
  up: { server: boolean; ui: boolean; postgres: boolean },
): Promise<Ports> {
  const taken = new Set<number>();
  const pick = async (
    p: number | undefined,
    up: boolean,
    flag?: number,
    fallback?: () => Promise<number>,
  ) => {
    let port: number;
    if (up && p !== undefined) port = p;
    else if (flag !== undefined) port = flag;
    else if (p !== undefined && !taken.has(p) && (await portFree(p, IP))) port = p;
    else port = await (fallback ?? (() => freeInternalPort(taken)))();
    taken.add(port);
    return port;
  };
  const fixed = (p: number) => () => Promise.resolve(p);
  const frontend = await pick(had.frontend, up.server, o.port, fixed(had.frontend ?? 7233));
  const ui = await pick(had.ui, up.ui, o.uiPort, fixed(had.ui ?? 8233));
  const postgres = await pick(had.postgres, up.postgres, o.pgPort, () => freePort(IP));
  const internal = (p: number | undefined) => pick(p !== undefined && p <= 32767 ? p : undefined, up.server);
  return {
    frontend,
    frontendHttp: await internal(had.frontendHttp),
    history: await internal(had.history),
    matching: await internal(had.matching),
    worker: await internal(had.worker),
    frontendMembership: await internal(had.frontendMembership),
    historyMembership: await internal(had.historyMembership),
    matchingMembership: await internal(had.matchingMembership),
    workerMembership: await internal(had.workerMembership),
    ui,
    postgres,
  };
}
