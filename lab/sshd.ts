// One sshd per namespace, with its own config, host key and pid file; root logs in with the lab
// client key only. Runbooks move the VIP over SSH exactly as they would in production.
import { readFileSync, writeFileSync } from 'node:fs';
import { findBinary } from './bin';
import { daemon, run } from './sh';

export async function keygen(path: string, comment: string): Promise<string> {
  await run([findBinary('ssh-keygen'), '-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path]);
  return readFileSync(`${path}.pub`, 'utf8').trim();
}

/** "ssh-ed25519 AAAA..." without the comment, as the inventory pins it. */
export const pinnedKey = (pub: string) => pub.split(/\s+/).slice(0, 2).join(' ');

export interface SshdConfig {
  configFile: string;
  hostKey: string;
  pidFile: string;
  authorizedKeys: string;
}

export function writeSshdConfig(c: SshdConfig): void {
  const lines = [
    'Port 22',
    'ListenAddress 0.0.0.0',
    `HostKey ${c.hostKey}`,
    `PidFile ${c.pidFile}`,
    'UsePAM no',
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    `AuthorizedKeysFile ${c.authorizedKeys}`,
    // The lab dir may sit under /tmp (world-writable), which strict modes reject.
    'StrictModes no',
    'UseDNS no',
    // Runbooks keep one connection per host and open channels on it (kill loops, VIP moves).
    'MaxSessions 64',
    'MaxStartups 64:30:128',
    'LogLevel ERROR',
    'Subsystem sftp internal-sftp',
  ];
  writeFileSync(c.configFile, lines.join('\n') + '\n', { mode: 0o600 });
}

export function startSshd(configFile: string, netns: string, logFile: string): number {
  // -D: stay in the foreground, so the pid we spawn is sshd itself; -e: log to the log file.
  return daemon(
    [findBinary('ip'), 'netns', 'exec', netns, findBinary('sshd'), '-D', '-e', '-f', configFile],
    logFile,
  );
}
