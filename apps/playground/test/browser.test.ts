import { createServer, type Server } from 'node:http'
import { freePort } from '@x/testkit'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chromiumPath, hasChromium, launchChromium, screenshot, uiTimeoutMs } from './harness/browser.js'
import { login } from './harness/http.js'
import { type Playground, startPlayground } from './harness/playground.js'

if (!hasChromium) {
  console.warn(
    `[browser tests] skipped: no Chromium at ${chromiumPath}. Install it (Debian/Ubuntu: apt-get install -y chromium) or set CHROMIUM_PATH.`,
  )
}

const userLimitPerMinute = 30

// Each browser wait is bounded by uiTimeoutMs; a test chains several, so on a loaded machine the
// default 30 s per test would cut a tour that is still progressing.
describe.skipIf(!hasChromium)(
  'the showcase in a real browser (Chromium)',
  { timeout: 6 * uiTimeoutMs },
  () => {
    let playground: Playground
    let browser: Browser
    let laptop: BrowserContext
    let phone: BrowserContext
    let pageA: Page
    let pageB: Page

    beforeAll(async () => {
      ;[playground, browser] = await Promise.all([
        startPlayground({
          RATE_LIMIT_IP_PER_MINUTE: '100000',
          LOGIN_ATTEMPTS_PER_IP: '100000',
          RATE_LIMIT_USER_PER_MINUTE: String(userLimitPerMinute),
        }),
        launchChromium(),
      ])
      laptop = await browser.newContext({ viewport: { width: 1280, height: 900 } })
      phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true })
      for (const context of [laptop, phone]) context.setDefaultTimeout(uiTimeoutMs)
      pageA = await laptop.newPage()
      await pageA.goto(`${playground.a.url}/`)
    }, 180_000)

    afterAll(async () => {
      await browser?.close()
      await playground?.stop()
    }, 60_000)

    async function signIn(page: Page, email: string, device: string) {
      await page.getByLabel('User', { exact: true }).selectOption(email)
      await page.getByLabel('Device name', { exact: true }).fill(device)
      await page.getByRole('button', { name: 'Sign in', exact: true }).click()
      await page.locator('#me-name').filter({ hasText: email }).waitFor()
    }

    it('signs in as a seeded user and lists the devices', async () => {
      await signIn(pageA, 'ada@example.com', 'laptop')
      await pageA.locator('#sessions li').filter({ hasText: '(this device)' }).waitFor()
      expect(await pageA.locator('#me-name').textContent()).toContain('Ada Lovelace')
      await screenshot(pageA, 'account')
    })

    it('revokes the session of a second browser (another device) from the first', async () => {
      const phonePage = await phone.newPage()
      await phonePage.goto(`${playground.b.url}/`)
      await signIn(phonePage, 'ada@example.com', 'phone')
      await screenshot(phonePage, 'phone')

      await pageA.reload()
      const phoneRow = pageA.locator('#sessions li').filter({ hasText: 'phone' })
      await phoneRow.getByRole('button', { name: /Revoke/ }).click()
      await pageA.locator('#account-status').filter({ hasText: 'Session revoked' }).waitFor()
      await phoneRow.waitFor({ state: 'detached' })

      await phonePage.reload()
      await phonePage.getByRole('button', { name: 'Sign in', exact: true }).waitFor()
      expect(await phonePage.locator('#signed-in').isHidden()).toBe(true)
      await phonePage.close()
    })

    it('shows how each read was answered, and a stampede of cold reads costs one database query', async () => {
      const row = pageA.locator('#users tr[data-user-id="2"]')
      await row.getByRole('button', { name: /Read Grace Hopper/ }).click()
      await row
        .locator('.outcome')
        .filter({ hasText: /hit-l1|hit-redis|miss/ })
        .waitFor()

      await pageA.getByLabel('Stampede on', { exact: true }).selectOption('3')
      await pageA.getByLabel('concurrent cold reads', { exact: true }).fill('50')
      await pageA.getByRole('button', { name: 'Stampede', exact: true }).click()
      await pageA.locator('#stampede-queries').waitFor()
      expect(await pageA.locator('#stampede-queries').textContent()).toBe('1 database query')
      expect(await pageA.locator('#stampede-result').textContent()).toMatch(/50 cold reads/)
      await screenshot(pageA, 'users')
    })

    it('runs a job on each instance: the lock queues them, fencing tokens rise', async () => {
      pageB = await laptop.newPage()
      await pageB.goto(`${playground.b.url}/`)
      await pageB.locator('#me-name').filter({ hasText: 'ada@example.com' }).waitFor()
      for (const page of [pageA, pageB]) {
        await page.getByLabel('Job', { exact: true }).selectOption('nightly-report')
        await page.getByLabel('work (ms)', { exact: true }).fill('1500')
      }
      await Promise.all([
        pageA.getByRole('button', { name: 'Run on instance A', exact: true }).click(),
        pageB.getByRole('button', { name: 'Run on instance B', exact: true }).click(),
      ])
      const finished = /finished on ([AB]) with fencing token (\d+)/
      const results: Array<{ instance: string; fence: number }> = []
      for (const page of [pageA, pageB]) {
        const status = page.locator('#job-result').filter({ hasText: finished })
        await status.waitFor()
        const [, instance, fence] = finished.exec((await status.textContent()) ?? '')!
        results.push({ instance: instance!, fence: Number(fence) })
      }
      expect(results.map((result) => result.instance)).toEqual(['A', 'B'])
      expect(results[0]!.fence).not.toBe(results[1]!.fence)
      // Page A's log heard both instances' runs over pub/sub, the later one having waited.
      for (const instance of ['A', 'B']) {
        await pageA
          .locator(`#job-log li[data-instance="${instance}"][data-status="finished"]`)
          .first()
          .waitFor()
      }
      await screenshot(pageA, 'jobs')
    })

    it('a message sent on instance B arrives live on instance A, stamped with its stored time', async () => {
      await pageB.getByLabel('Message', { exact: true }).fill('hello from the other instance')
      await pageB.getByRole('button', { name: 'Send', exact: true }).click()
      const arrived = pageA
        .locator('#messages li[data-instance="B"]')
        .filter({ hasText: 'hello from the other instance' })
      await arrived.waitFor()
      expect(await arrived.textContent()).toMatch(/Ada Lovelace via B/)
      await screenshot(pageA, 'messages')
    })

    it('drains the user budget to a 429 and shows every policy as a bar', async () => {
      await pageA.locator('#budgets .budget[data-policy="user-minute"] progress').waitFor()
      await pageA.getByLabel('Requests', { exact: true }).fill(String(userLimitPerMinute + 10))
      await pageA.getByRole('button', { name: 'Send them now', exact: true }).click()
      await pageA.locator('#burst-result').filter({ hasText: 'refused with 429' }).waitFor()
      expect(await pageA.locator('#burst-result').textContent()).toContain('limit "user"')
      for (const policy of ['ip', 'user-minute', 'user-day', 'login-ip', 'login-account']) {
        await pageA.locator(`#budgets .budget[data-policy="${policy}"] progress`).waitFor()
      }
      // The bar shows the drained budget (a slot may have refilled meanwhile).
      await pageA.waitForFunction(
        'document.querySelector(\'.budget[data-policy="user-minute"] progress\')?.value <= 1',
      )
      await screenshot(pageA, 'limits')
    })

    it('the live counters chart what the metrics counted: cache reads, the limited requests, lock waits, spans', async () => {
      // The page samples GET /metrics/summary every two seconds: the tour above shows up there.
      await pageA
        .locator('#totals-ratelimit')
        .filter({ hasText: /limited [1-9]/ })
        .waitFor()
      await pageA
        .locator('#totals-cache')
        .filter({ hasText: /miss [1-9]/ })
        .waitFor()
      await pageA
        .locator('#totals-lock')
        .filter({ hasText: /[a-z-]+ [1-9]/ })
        .waitFor()
      for (const chart of ['chart-cache', 'chart-limits', 'chart-locks']) {
        await pageA.locator(`#${chart} canvas`).waitFor()
      }
      await pageA.locator('#recent-spans li').first().waitFor()
      expect(Number(await pageA.locator('#totals-spans').textContent())).toBeGreaterThan(0)
      await pageA.locator('#charts-section').scrollIntoViewIfNeeded()
      await screenshot(pageA, 'counters')
    })

    describe('CSRF', () => {
      let attacker: Server
      afterAll(() => attacker?.close())

      it('a page on another port of the same host cannot force /logout-all', async () => {
        const { a } = playground
        // The victim: signed in in this browser, and on a second device.
        const victim = await browser.newContext()
        const page = await victim.newPage()
        await page.goto(`${a.url}/`)
        await signIn(page, 'grace@example.com', 'browser')
        const otherDevice = await login(a, 'grace@example.com')

        // Same host, another port: "same-site" to the browser, so the Lax cookie goes along.
        const port = await freePort()
        attacker = createServer((_request, response) => {
          response.setHeader('content-type', 'text/html')
          response.end(
            `<form id="f" method="POST" action="${a.url}/logout-all"></form><script>document.getElementById('f').submit()</script>`,
          )
        })
        await new Promise<void>((resolve) => attacker.listen(port, '127.0.0.1', resolve))
        const forced = page.waitForResponse((response) => response.url() === `${a.url}/logout-all`)
        await page.goto(`http://127.0.0.1:${port}/`)
        const response = await forced
        expect(response.status()).toBe(403)
        expect((await response.request().allHeaders()).cookie).toMatch(/sid=/)
        // The other device is still signed in.
        expect((await a.fetch('/me', { headers: { cookie: otherDevice } })).status).toBe(200)
        await victim.close()
      })
    })
  },
)
