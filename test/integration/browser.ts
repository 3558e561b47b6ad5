// Headless Chromium (Debian's, driven by playwright-core) for checks of the Temporal Web UI.
// A fresh profile per launch, no background traffic; always closed, also when the check throws.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';

export const CHROMIUM = process.env.SUCCESSOVER_TEST_CHROMIUM ?? '/usr/bin/chromium';

/** Where a failed check leaves a screenshot of the page. */
export const FAILURE_SCREENSHOT = '/tmp/ui-failure.png';

const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Runs fn with a page of a fresh headless Chromium; closes it and removes its profile afterwards. */
export async function withPage<R>(fn: (page: Page) => Promise<R>): Promise<R> {
  const profile = mkdtempSync(join(tmpdir(), 'successover-chromium-'));
  let context: BrowserContext | undefined;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      viewport: { width: 1600, height: 1000 },
      timeout: 60_000,
    });
    const page = context.pages()[0] ?? (await context.newPage());
    try {
      return await fn(page);
    } catch (e) {
      // What the page showed when the check failed, for the one reading the failure.
      await page.screenshot({ path: FAILURE_SCREENSHOT }).catch(() => undefined);
      throw e;
    }
  } finally {
    await context?.close().catch(() => undefined);
    rmSync(profile, { recursive: true, force: true });
  }
}

/** Whether the first match shows within the timeout (generous: the machine is shared and slow). */
export async function visible(locator: Locator, timeoutMs = 30_000): Promise<boolean> {
  try {
    await locator.first().waitFor({ state: 'visible', timeout: timeoutMs });
    return true;
  } catch {
    return false;
  }
}

/** Fails, naming what it looked for, unless the locator shows. */
export async function shows(locator: Locator, timeoutMs = 30_000): Promise<void> {
  if (!(await visible(locator, timeoutMs)))
    throw new Error(`not shown within ${timeoutMs} ms: ${String(locator)}`);
}

/**
 * Reloads the page until the locator shows: the dev server's visibility store lists a run a
 * moment after it closes, and the UI does not refresh the list by itself. Each attempt waits
 * long enough for a slow render, so reloading never starves the page.
 */
export async function reloadUntilVisible(page: Page, locator: Locator, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = deadline - Date.now();
    if (await visible(locator, Math.max(1_000, Math.min(10_000, left)))) return;
    if (Date.now() >= deadline) throw new Error(`not shown within ${timeoutMs} ms: ${String(locator)}`);
    await page.reload({ waitUntil: 'domcontentloaded' });
  }
}
