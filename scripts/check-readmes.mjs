#!/usr/bin/env node
// Checks every code block of every README the way a user would meet it:
//   ```ts / ```js          type-checked in strict mode as a complete module, against the built packages
//   ```ts run / ```js run   also run (tsx) against a throwaway redis-server (REDIS_URL), and must exit 0
//                           by itself within a minute
//   ```ts fragment          a deliberate fragment: not checked (the README says so where it is shown)
// Blocks are written next to the README's package (`.readme-check/`, git-ignored) so that imports
// resolve as they would in a project that installed the package and its peers.
// Usage: node scripts/check-readmes.mjs [README paths...]   (default: every README of the repo)
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { dirname, join, relative, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')
const CHECKED = new Set(['ts', 'typescript', 'js', 'javascript', 'tsx'])

const readmes = process.argv.slice(2).length
  ? process.argv.slice(2).map((path) => resolve(path))
  : [
      join(root, 'README.md'),
      ...['packages', 'apps'].flatMap((group) =>
        readdirSync(join(root, group))
          .map((dir) => join(root, group, dir, 'README.md'))
          .filter((path) => existsSync(path)),
      ),
    ]

/** Fenced blocks with their info string and the README line where their code starts. */
function blocksOf(path) {
  const lines = readFileSync(path, 'utf8').split('\n')
  const blocks = []
  let open
  lines.forEach((line, index) => {
    const fence = /^(\s*)(```+|~~~+)\s*(.*)$/.exec(line)
    if (!open && fence) {
      open = {
        indent: fence[1].length,
        fence: fence[2],
        info: fence[3].trim().split(/\s+/),
        start: index + 2,
        code: [],
      }
    } else if (open && fence?.[2].startsWith(open.fence) && fence[3] === '') {
      blocks.push(open)
      open = undefined
    } else if (open) {
      open.code.push(line.slice(Math.min(open.indent, line.length - line.trimStart().length)))
    }
  })
  return blocks
    .filter((block) => CHECKED.has(block.info[0]?.toLowerCase()))
    .map((block) => ({
      ...block,
      language: /^(js|javascript)$/i.test(block.info[0]) ? 'js' : 'ts',
      run: block.info.includes('run'),
      fragment: block.info.includes('fragment'),
    }))
}

const freePort = () =>
  new Promise((done, fail) => {
    const server = createServer()
    server.once('error', fail)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => done(port))
    })
  })

async function startRedis() {
  const port = await freePort()
  const child = spawn(
    process.env.REDIS_SERVER_BIN ?? 'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  )
  for (let attempt = 0; attempt < 200; attempt++) {
    const ping = spawnSync(process.env.REDIS_CLI_BIN ?? 'redis-cli', ['-p', String(port), 'ping'], {
      encoding: 'utf8',
    })
    if (ping.stdout?.trim() === 'PONG') return { port, child }
    await new Promise((done) => setTimeout(done, 50))
  }
  child.kill('SIGKILL')
  throw new Error(`redis-server did not start on port ${port}`)
}

// README_CHECK_NO_BUILD=1 reuses the dist folders already built (while editing a README).
if (!process.env.README_CHECK_NO_BUILD) {
  console.log('readme:check: building the packages')
  execFileSync(
    'pnpm',
    ['exec', 'turbo', 'run', 'build', '--filter=./packages/*', '--output-logs=errors-only'],
    {
      cwd: root,
      stdio: 'inherit',
    },
  )
}

const failures = []
const toRun = []
let checked = 0
let fragments = 0
for (const readme of readmes) {
  const blocks = blocksOf(readme)
  const shown = relative(root, readme)
  fragments += blocks.filter((block) => block.fragment).length
  const wanted = blocks.filter((block) => !block.fragment)
  if (wanted.length === 0) continue
  const dir = join(dirname(readme), '.readme-check')
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  const files = wanted.map((block) => {
    const file = join(dir, `line-${block.start}.${block.language === 'js' ? 'mjs' : 'mts'}`)
    writeFileSync(file, `${block.code.join('\n')}\n`)
    return { block, file }
  })
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify(
      {
        compilerOptions: {
          target: 'ES2022',
          lib: ['ES2022', 'ESNext.Disposable', 'DOM'],
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          moduleDetection: 'force',
          strict: true,
          allowJs: true,
          checkJs: true,
          noEmit: true,
          skipLibCheck: true,
          types: ['node'],
        },
        include: ['*.mts', '*.mjs'],
      },
      null,
      2,
    ),
  )
  checked += files.length
  const tsc = spawnSync('pnpm', ['exec', 'tsc', '-p', join(dir, 'tsconfig.json'), '--pretty', 'false'], {
    cwd: root,
    encoding: 'utf8',
  })
  if (tsc.status !== 0) {
    // Point each error at the README line it comes from.
    for (const line of `${tsc.stdout}${tsc.stderr}`.split('\n').filter(Boolean)) {
      const located = /line-(\d+)\.m[tj]s\((\d+),(\d+)\): (.*)$/.exec(line)
      failures.push(
        located
          ? `${shown}:${Number(located[1]) + Number(located[2]) - 1}: ${located[4]}`
          : `${shown}: ${line}`,
      )
    }
  }
  for (const { block, file } of files) if (block.run) toRun.push({ shown: `${shown}:${block.start}`, file })
}

if (toRun.length > 0) {
  const redis = await startRedis()
  try {
    for (const { shown, file } of toRun) {
      spawnSync(process.env.REDIS_CLI_BIN ?? 'redis-cli', ['-p', String(redis.port), 'flushall'])
      const result = spawnSync('pnpm', ['exec', 'tsx', file], {
        cwd: dirname(dirname(file)),
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, REDIS_URL: `redis://127.0.0.1:${redis.port}` },
      })
      if (result.error?.code === 'ETIMEDOUT' || result.signal) {
        failures.push(`${shown}: did not exit by itself within 60 s (a client or timer left open?)`)
      } else if (result.status !== 0) {
        failures.push(`${shown}: exited with ${result.status}\n${`${result.stdout}${result.stderr}`.trim()}`)
      } else {
        console.log(`ran ${shown}`)
      }
    }
  } finally {
    redis.child.kill('SIGKILL')
  }
}

console.log(
  `readme:check: ${checked} blocks type-checked, ${toRun.length} run, ${fragments} marked as fragments, in ${readmes.length} READMEs`,
)
if (failures.length > 0) {
  console.error(`\n${failures.length} problem(s):\n${failures.map((failure) => `- ${failure}`).join('\n')}`)
  process.exit(1)
}
