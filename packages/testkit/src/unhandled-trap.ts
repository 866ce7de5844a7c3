import { afterAll, afterEach } from 'vitest'

/**
 * vitest setupFiles entry (wired in the root vitest.shared.ts): any unhandled rejection or uncaught
 * exception fails the test during which it happened — with the error — instead of being a warning
 * at the end of the run, or passing unseen. One trap for the whole run; test files need none.
 */
const caught: Array<{ kind: string; error: unknown }> = []
// Taken before any test can install fake timers, which would leave the wait below hanging.
const realSetImmediate = globalThis.setImmediate
const onRejection = (error: unknown) => caught.push({ kind: 'unhandled rejection', error })
const onException = (error: unknown) => caught.push({ kind: 'uncaught exception', error })
process.on('unhandledRejection', onRejection)
process.on('uncaughtException', onException)

function check(): void {
  if (caught.length === 0) return
  const found = caught.splice(0)
  const first = found[0]!
  const detail =
    first.error instanceof Error ? (first.error.stack ?? first.error.message) : String(first.error)
  throw new Error(`${found.length} ${first.kind}(s) during this test; the first:\n${detail}`, {
    cause: first.error,
  })
}

afterEach(check)
afterAll(async () => {
  // A rejection left unhandled by the last test surfaces a tick or two after it.
  await new Promise((resolve) => realSetImmediate(resolve))
  check()
  process.off('unhandledRejection', onRejection)
  process.off('uncaughtException', onException)
})
