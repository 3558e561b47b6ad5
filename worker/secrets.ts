// Resolves the inventory's secret references on the worker. Errors name the missing variable
// or file and the inventory field that refers to it.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { resolve, dirname } from 'node:path';
import type { Inventory } from '../domain/inventory';
import type { Secrets, Account } from '../activities/deps';
import { isDirectory } from './loadInventory';

type Ref = { user: string; passwordEnv?: string; passwordFile?: string };

function expand(path: string, baseDir: string): string {
  if (path.startsWith('~/')) return resolve(homedir(), path.slice(2));
  return resolve(baseDir, path);
}

function readSecretFile(path: string, field: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new Error(
      `${field}: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? String(e)}): create it or fix the path`,
    );
  }
}

/**
 * One secret given by reference in the inventory: `<key>Env` names a variable, `<key>File` a file
 * (relative to baseDir; one trailing newline dropped). Errors name the field and who needs it.
 */
export function secretByRef(
  ref: { env?: string; file?: string },
  field: { env: string; file: string },
  env: NodeJS.ProcessEnv,
  baseDir: string,
  who = 'the worker',
): string {
  if (ref.env !== undefined) {
    // Own entries only: `passwordEnv: constructor` must not read process.env's inherited function.
    const v = Object.hasOwn(env, ref.env) ? env[ref.env] : undefined;
    if (typeof v !== 'string')
      throw new Error(
        `${field.env}: environment variable ${ref.env} is not set: export it before starting ${who}`,
      );
    return v;
  }
  return readSecretFile(expand(ref.file as string, baseDir), field.file)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

function account(ref: Ref, field: string, env: NodeJS.ProcessEnv, baseDir: string): Account {
  const password = secretByRef(
    { env: ref.passwordEnv, file: ref.passwordFile },
    { env: `${field}.passwordEnv`, file: `${field}.passwordFile` },
    env,
    baseDir,
  );
  return { user: ref.user, password };
}

/**
 * Where relative secret file paths are read from: the folder of the file that holds the section,
 * the inventory file's, or in an inventory directory (not recursive) the directory itself.
 */
export function inventoryBaseDir(inventoryPath: string): string {
  return isDirectory(inventoryPath) ? resolve(inventoryPath) : dirname(resolve(inventoryPath));
}

/** @param inventoryPath an inventory file or directory (relative secret files: inventoryBaseDir). */
export function resolveSecrets(
  inv: Inventory,
  inventoryPath: string,
  env: NodeJS.ProcessEnv = process.env,
): Secrets {
  const baseDir = inventoryBaseDir(inventoryPath);
  const c = inv.credentials;
  const secrets: Secrets = {
    mysql: account(c.mysql, 'credentials.mysql', env, baseDir),
    replication: account(c.replication, 'credentials.replication', env, baseDir),
  };
  if (c.ssh)
    secrets.ssh = {
      user: c.ssh.user,
      privateKey: readSecretFile(expand(c.ssh.privateKeyFile, baseDir), 'credentials.ssh.privateKeyFile'),
    };
  return secrets;
}
