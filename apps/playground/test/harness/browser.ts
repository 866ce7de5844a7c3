import { existsSync, mkdirSync } from 'node:fs'
import { resolve } from 'node:path'
import { type Browser, chromium, type Page } from 'playwright-core'

/**
 * The system's Chromium (Debian's `chromium` package), driven by playwright-core: no browser is
 * downloaded. Env: `CHROMIUM_PATH` to point elsewhere.
 */
export const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium'
export const hasChromium = existsSync(chromiumPath)

/** Screenshots of every view, kept as test artifacts (git-ignored). */
export const artifactsDir = resolve(import.meta.dirname, '../../test-results')

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    // Root in CI containers has no user namespace for Chromium's sandbox.
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  })
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(artifactsDir, { recursive: true })
  await page.screenshot({ path: resolve(artifactsDir, `${name}.png`), fullPage: true })
}

/** Generous: conditions are awaited, never timed; this only ends a broken run. */
export const uiTimeoutMs = 30_000
