// The programs and files the PostgreSQL-backed Temporal needs, all put in place by `npm run setup`:
// temporal-server, temporal-sql-tool and temporal-ui-server built into .tools/bin, the SQL schema
// copied from the server's Go module into .tools/temporal-schema (so a start needs no network), and
// Debian's PostgreSQL server binaries.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { executable, REPO_ROOT } from './binary';

export const TOOLS_DIR = join(REPO_ROOT, '.tools');
/** The server's own schema layout (schema/postgresql/v12/{temporal,visibility}/versioned/vX.Y). */
export const SCHEMA_DIR = join(TOOLS_DIR, 'temporal-schema', 'postgresql', 'v12');

export interface Tools {
  server: string;
  sqlTool: string;
  /** Absent when the caller wants no UI. */
  uiServer?: string;
  /** Directory of initdb, postgres, pg_isready and psql. */
  pgBin: string;
  /** The versioned schema dirs, by DATABASES key. */
  schema: { default: string; visibility: string };
}

const SETUP = 'run `npm run setup` (as root), which builds and installs it';

/** Debian's newest PostgreSQL server binaries (/usr/lib/postgresql/<major>/bin), 12 or later. */
export function findPgBin(root = '/usr/lib/postgresql'): string | undefined {
  let majors: number[];
  try {
    majors = readdirSync(root)
      .map(Number)
      .filter((n) => Number.isInteger(n) && n >= 12);
  } catch {
    return undefined;
  }
  for (const m of majors.sort((a, b) => b - a)) {
    const bin = join(root, String(m), 'bin');
    if (['initdb', 'postgres', 'pg_isready', 'psql'].every((p) => executable(join(bin, p)))) return bin;
  }
  return undefined;
}

/** The highest vX.Y directory under a versioned schema dir ("1.18"), what update-schema reaches. */
export function latestSchemaVersion(versionedDir: string): string | undefined {
  const versions = readdirSync(versionedDir)
    .filter((d) => /^v\d+\.\d+$/.test(d))
    .map((d) => d.slice(1).split('.').map(Number));
  versions.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const top = versions.at(-1);
  return top && top.join('.');
}

/** Every tool, or one error naming each missing piece and the fix. */
export function findTools(o: { ui: boolean }): Tools {
  const bin = join(TOOLS_DIR, 'bin');
  const missing: string[] = [];
  const tool = (name: string) => {
    const p = join(bin, name);
    if (!executable(p)) missing.push(p);
    return p;
  };
  const server = tool('temporal-server');
  const sqlTool = tool('temporal-sql-tool');
  const uiServer = o.ui ? tool('temporal-ui-server') : undefined;
  const schema = {
    default: join(SCHEMA_DIR, 'temporal', 'versioned'),
    visibility: join(SCHEMA_DIR, 'visibility', 'versioned'),
  };
  for (const d of Object.values(schema)) if (!existsSync(d)) missing.push(`${d} (the SQL schema)`);
  const pgBin = findPgBin();
  if (!pgBin)
    missing.push(
      'PostgreSQL 12+ server binaries in /usr/lib/postgresql/<major>/bin (Debian package postgresql)',
    );
  if (missing.length > 0)
    throw new Error(
      `the PostgreSQL-backed Temporal needs what is missing here: ${missing.join('; ')}; ${SETUP}${o.ui ? ' (or pass --headless for no UI)' : ''}`,
    );
  return { server, sqlTool, uiServer, pgBin: pgBin as string, schema };
}
