#!/usr/bin/env node
// `pnpm test`: every package's suite through turbo. A failing package does not stop the others
// (--continue), so one red suite shows every other result too; the run ends with one line that sums
// every vitest summary: `tests: N passed, N failed, N skipped`.
import { spawn } from 'node:child_process'

const child = spawn(
  'pnpm',
  ['exec', 'turbo', 'run', 'test', '--concurrency=2', '--continue', ...process.argv.slice(2)],
  { stdio: ['inherit', 'pipe', 'pipe'], env: { TURBO_TELEMETRY_DISABLED: '1', ...process.env } },
)

const totals = { passed: 0, failed: 0, skipped: 0 }
const count = (line) => {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes are what we strip
  const plain = line.replace(/\x1b\[[0-9;]*m/g, '')
  // vitest: "      Tests  12 passed | 1 failed | 2 skipped (15)" — not the "Test Files" line.
  const summary = /\bTests\s+(.*)$/.exec(plain)
  if (!summary || /Test Files/.test(plain)) return
  for (const [, n, kind] of summary[1].matchAll(/(\d+) (passed|failed|skipped)/g)) totals[kind] += Number(n)
}
const tails = []
const pipe = (from, to) => {
  const tail = { text: '' }
  tails.push(tail)
  from.on('data', (chunk) => {
    to.write(chunk)
    const lines = (tail.text + chunk.toString()).split('\n')
    tail.text = lines.pop() ?? ''
    for (const line of lines) count(line)
  })
}
pipe(child.stdout, process.stdout)
pipe(child.stderr, process.stderr)

child.on('close', (code) => {
  for (const tail of tails) count(tail.text)
  console.log(`tests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`)
  process.exit(code ?? 1)
})
