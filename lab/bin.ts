// Server binaries live in /usr/sbin, which a non-root user's PATH often lacks.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

const cache = new Map<string, string>();

export function findBinary(name: string): string {
  const hit = cache.get(name);
  if (hit) return hit;
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  for (const d of dirs.filter(Boolean)) {
    const p = join(d, name);
    try {
      accessSync(p, constants.X_OK);
      cache.set(name, p);
      return p;
    } catch {
      // not here
    }
  }
  throw new Error(
    `${name} not found (PATH, /usr/sbin, /sbin): install its Debian package (see scripts/setup.sh)`,
  );
}
