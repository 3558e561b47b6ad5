// One sshd per namespace, with its own config, host key and pid file; root logs in with the lab
// client key only. Runbooks move the VIP over SSH exactly as they would in production.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { shellQuote } from '../activities/ssh';
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

/**
 * Each lab host is its own machine, with its own home: sshd runs in a private mount namespace
 * where `home` is bound over /root. Otherwise every command would source this machine's
 * /root/.bashrc (here it runs `pyenv init`, ~0.8 s), which would sit inside the write blackout.
 */
export function startSshd(configFile: string, netns: string, logFile: string, home: string): number {
  mkdirSync(home, { recursive: true });
  // -D: stay in the foreground; unshare and sh exec, so the pid we spawn ends up being sshd's.
  const sshd = [findBinary('sshd'), '-D', '-e', '-f', configFile].map(shellQuote).join(' ');
  return daemon(
    [
      findBinary('ip'),
      'netns',
      'exec',
      netns,
      findBinary('unshare'),
      '--mount',
      '--propagation',
      'private',
      'sh',
      '-c',
      `mount --bind ${shellQuote(home)} /root && exec ${sshd}`,
    ],
    logFile,
  );
}
