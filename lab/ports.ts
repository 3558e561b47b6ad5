import { createServer } from 'node:net';

/** Free on 127.0.0.1 right now (a check, not a reservation). */
export function portFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createServer();
    s.once('error', () => res(false));
    s.listen(port, '127.0.0.1', () => s.close(() => res(true)));
  });
}
