// Server versions as @@version prints them ("10.11.19-MariaDB-0+deb12u1-log", "8.0.36-0ubuntu0.22.04.1",
// "8.4.3"), and their order. Only the numeric release matters; the suffix is packaging.

export interface ServerVersion {
  major: number;
  minor: number;
  patch: number;
  /** The version string as given. */
  raw: string;
}

// MariaDB sends "5.5.5-" before its real version in the protocol handshake so that old MySQL
// clients accept it; a version copied from a client banner can carry it.
const HANDSHAKE_PREFIX = /^5\.5\.5-(?=\d+\.\d+\.\d+-MariaDB)/i;
const RELEASE = /^(\d+)\.(\d+)(?:\.(\d+))?/;

export function parseVersion(version: string): ServerVersion {
  if (typeof version !== 'string') throw new TypeError(`expected a version string, got ${typeof version}`);
  const m = RELEASE.exec(version.trim().replace(HANDSHAKE_PREFIX, ''));
  if (!m)
    throw new Error(
      `"${version}" is not a server version: expected the form @@version prints, e.g. "10.11.6-MariaDB" or "8.0.36"`,
    );
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3] ?? 0), raw: version };
}

/** <0 when a is older than b, 0 for the same release, >0 when a is newer. */
export function compareVersions(a: string, b: string): number {
  const x = parseVersion(a);
  const y = parseVersion(b);
  return x.major - y.major || x.minor - y.minor || x.patch - y.patch;
}

/**
 * Whether a is an older release than b. False when either is no version: a preflight refuses or
 * warns on what it knows, and a throw in workflow code would fail the workflow task, not the run.
 */
export function isOlder(a: string, b: string): boolean {
  try {
    return compareVersions(a, b) < 0;
  } catch {
    return false;
  }
}

/** The release series ("10.11", "8.0"): what upgrade notes are written against. */
export function series(version: string): string {
  const v = parseVersion(version);
  return `${v.major}.${v.minor}`;
}

/**
 * Whether a change that took effect in `since` lies on the way from `from` to `to`: the old
 * version predates it and the new one has it.
 */
export function crosses(from: string, to: string, since: string): boolean {
  return compareVersions(from, since) < 0 && compareVersions(to, since) >= 0;
}
