// The host key the inventory pins (ssh.hostKey), and how it is shown and asked for. The pool
// refuses a host that presents any other key.
import { createHash } from 'node:crypto';
import type { ServerHostKeyAlgorithm } from 'ssh2';

export interface PinnedKey {
  type: string;
  blob: Buffer;
}

/** Parses "ssh-ed25519 AAAA..." (known_hosts style, no host name, optional comment). */
export function parseHostKey(line: string): PinnedKey {
  const [type, b64] = line.trim().split(/\s+/);
  if (!type || !b64) throw new Error(`expected "TYPE BASE64" for a host key, got ${JSON.stringify(line)}`);
  const blob = Buffer.from(b64, 'base64');
  // The blob starts with its own type as an SSH string; a mismatch means a pasting mistake.
  const inner = blob.length >= 4 ? blob.subarray(4, 4 + blob.readUInt32BE(0)).toString('latin1') : '';
  if (inner !== type) throw new Error(`host key says ${type} but its data is a ${inner || 'malformed'} key`);
  return { type, blob };
}

/** OpenSSH fingerprint format: "SHA256:" + base64 of the SHA-256 of the key blob, without padding. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

export function hostKeyAlgorithms(type: string): ServerHostKeyAlgorithm[] {
  // Ask the server for the pinned key's type, so a host with several keys presents the one we know.
  if (type === 'ssh-rsa') return ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
  return [type as ServerHostKeyAlgorithm];
}
