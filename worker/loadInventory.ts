// Reads and validates an inventory file. Exit codes of `inventory check` follow the kinds here.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { validateInventory, type Inventory } from '../domain/inventory';

export class InventoryError extends Error {
  constructor(
    readonly kind: 'unreadable' | 'invalid',
    readonly problems: string[],
    file: string,
  ) {
    super(`${file}: ${kind === 'unreadable' ? '' : 'invalid inventory:\n  '}${problems.join('\n  ')}`);
  }
}

export function loadInventory(file: string): Inventory {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InventoryError(
      'unreadable',
      [`cannot read the file (${(e as NodeJS.ErrnoException).code ?? String(e)})`],
      file,
    );
  }
  let doc: unknown;
  try {
    doc = parse(text, { prettyErrors: true });
  } catch (e) {
    throw new InventoryError('unreadable', [`not valid YAML: ${(e as Error).message}`], file);
  }
  const r = validateInventory(doc);
  if (!r.ok) throw new InventoryError('invalid', r.problems, file);
  return r.inventory;
}
