#!/usr/bin/env node
// A release, rehearsed end to end without touching a public registry:
//   changeset version (in a copy of the packages) → publish every package to a local verdaccio with no
//   uplinks → for each package, a new npm project whose .npmrc points only the @x scope at it installs
//   the package and ioredis → an ESM import and a CJS require each make a real call against a
//   throwaway redis-server → the installed manifest has no devDependencies and ships LICENSE and
//   CHANGELOG.md.
// The working tree is never changed: versions are applied in a temporary copy.
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { probes } from './release-probes.mjs'

const root = resolve(import.meta.dirname, '..')
const VERDACCIO = '6.8.0'
const step = (text) => console.log(`\nrelease:rehearse: ${text}`)
const run = (command, args, options = {}) => {
  console.log(`$ ${command} ${args.join(' ')}${options.cwd ? `  (in ${options.cwd})` : ''}`)
  return execFileSync(command, args, { stdio: 'inherit', ...options })
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

const waitFor = async (what, check, tries = 300) => {
  for (let attempt = 0; attempt < tries; attempt++) {
    if (await check()) return
    await new Promise((done) => setTimeout(done, 100))
  }
  throw new Error(`${what} did not come up`)
}

const work = mkdtempSync(join(tmpdir(), 'x-release-rehearsal-'))
const children = []
const stopAll = () => {
  for (const child of children) child.kill('SIGKILL')
}
process.on('exit', stopAll)

try {
  // REHEARSE_NO_BUILD=1 reuses the dist folders already built (while working on this script).
  if (!process.env.REHEARSE_NO_BUILD) {
    step('building the packages')
    run('pnpm', ['exec', 'turbo', 'run', 'build', '--filter=./packages/*', '--output-logs=errors-only'], {
      cwd: root,
    })
  }

  // verdaccio lives outside the workspace: it is only a tool of this rehearsal. 6.8.0 is the last
  // line that runs on Node 20; it installs only with node-fetch pinned to 2.7.0.
  const tools = join(root, 'node_modules', '.cache', 'verdaccio-runner')
  if (!existsSync(join(tools, 'node_modules', 'verdaccio', 'package.json'))) {
    step(`installing verdaccio ${VERDACCIO} (once, into node_modules/.cache)`)
    mkdirSync(tools, { recursive: true })
    writeFileSync(
      join(tools, 'package.json'),
      JSON.stringify({
        name: 'verdaccio-runner',
        private: true,
        dependencies: { verdaccio: VERDACCIO },
        overrides: { 'node-fetch': '2.7.0' },
      }),
    )
    run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: tools })
  }

  step('starting a local registry with no uplinks')
  const registryPort = await freePort()
  const registry = `http://127.0.0.1:${registryPort}/`
  const storage = join(work, 'storage')
  writeFileSync(
    join(work, 'verdaccio.yaml'),
    [
      `storage: ${storage}`,
      'auth:',
      '  htpasswd:',
      `    file: ${join(work, 'htpasswd')}`,
      '    max_users: -1',
      'uplinks: {}',
      'packages:',
      "  '@x/*':",
      '    access: $all',
      '    publish: $all',
      '    unpublish: $all',
      "  '**':",
      '    access: $all',
      'log: { type: stdout, format: pretty, level: warn }',
      '',
    ].join('\n'),
  )
  const verdaccio = spawn(
    process.execPath,
    [
      join(tools, 'node_modules', 'verdaccio', 'bin', 'verdaccio'),
      '--config',
      join(work, 'verdaccio.yaml'),
      '--listen',
      `127.0.0.1:${registryPort}`,
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  )
  children.push(verdaccio)
  await waitFor('verdaccio', async () => {
    try {
      return (await fetch(`${registry}-/ping`)).ok
    } catch {
      return false
    }
  })

  step('changeset version in a copy of the packages')
  const copy = join(work, 'repo')
  mkdirSync(join(copy, 'packages'), { recursive: true })
  for (const file of ['package.json', 'pnpm-workspace.yaml', 'LICENSE', '.pnpmfile.cjs']) {
    if (existsSync(join(root, file))) cpSync(join(root, file), join(copy, file))
  }
  cpSync(join(root, '.changeset'), join(copy, '.changeset'), { recursive: true })
  const packageDirs = readdirSync(join(root, 'packages')).filter((dir) =>
    existsSync(join(root, 'packages', dir, 'package.json')),
  )
  for (const dir of packageDirs) {
    cpSync(join(root, 'packages', dir), join(copy, 'packages', dir), {
      recursive: true,
      filter: (source) => !/[/\\](node_modules|\.turbo|\.readme-check|src)([/\\]|$)/.test(source),
    })
  }
  const changeset = join(root, 'node_modules', '@changesets', 'cli', 'bin.js')
  run(process.execPath, [changeset, 'version'], { cwd: copy })

  const published = packageDirs
    .map((dir) => ({
      dir: join(copy, 'packages', dir),
      manifest: JSON.parse(readFileSync(join(copy, 'packages', dir, 'package.json'), 'utf8')),
    }))
    .filter(({ manifest }) => !manifest.private)
  for (const { manifest } of published) {
    if (!manifest.version || manifest.version === '0.0.0') {
      throw new Error(`${manifest.name}: changeset version left it at ${manifest.version}`)
    }
  }

  // The copy has no node_modules, so pnpm cannot resolve `workspace:` ranges itself: write what it
  // would publish (the workspace package's version) and drop devDependencies (never published).
  const versions = new Map(published.map(({ manifest }) => [manifest.name, manifest.version]))
  for (const { dir, manifest } of published) {
    delete manifest.devDependencies
    for (const [name, range] of Object.entries(manifest.dependencies ?? {})) {
      if (String(range).startsWith('workspace:')) manifest.dependencies[name] = `^${versions.get(name)}`
    }
    writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`)
  }

  step(`publishing ${published.length} packages to ${registry}`)
  writeFileSync(
    join(copy, '.npmrc'),
    `registry=${registry}\n//127.0.0.1:${registryPort}/:_authToken=rehearsal\n`,
  )
  run('pnpm', ['publish', '-r', '--no-git-checks', '--registry', registry], { cwd: copy })

  const redisPort = await freePort()
  const redis = spawn(
    process.env.REDIS_SERVER_BIN ?? 'redis-server',
    ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  )
  children.push(redis)
  await waitFor('redis-server', () => {
    const ping = spawnSync(process.env.REDIS_CLI_BIN ?? 'redis-cli', ['-p', String(redisPort), 'ping'], {
      encoding: 'utf8',
    })
    return ping.stdout?.trim() === 'PONG'
  })

  for (const { manifest } of published) {
    step(`a new project installs ${manifest.name}@${manifest.version} from the local registry`)
    const project = join(work, `consumer-${manifest.name.split('/')[1]}`)
    mkdirSync(project)
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true }, null, 2))
    // Only our scope points at the local registry; ioredis comes from the usual one.
    writeFileSync(join(project, '.npmrc'), `@x:registry=${registry}\n`)
    run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', manifest.name, 'ioredis@^5.8.0'], {
      cwd: project,
    })
    const installed = join(project, 'node_modules', ...manifest.name.split('/'))
    const shipped = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'))
    if (shipped.version !== manifest.version)
      throw new Error(`${manifest.name}: installed ${shipped.version}`)
    if (shipped.devDependencies) {
      throw new Error(
        `${manifest.name}: the published manifest keeps devDependencies ${Object.keys(shipped.devDependencies)}`,
      )
    }
    for (const file of ['LICENSE', 'CHANGELOG.md', 'README.md']) {
      if (!existsSync(join(installed, file)))
        throw new Error(`${manifest.name}: ${file} is not in the package`)
    }
    const probe = probes[manifest.name]
    if (!probe) throw new Error(`${manifest.name}: no probe in scripts/release-probes.mjs`)
    const env = { ...process.env, REDIS_URL: `redis://127.0.0.1:${redisPort}` }
    writeFileSync(join(project, 'probe.mjs'), `import * as x from '${manifest.name}'\n${probe}\n`)
    writeFileSync(
      join(project, 'probe.cjs'),
      `const x = require('${manifest.name}')\n;(async () => {\n${probe}\n})().catch((error) => { console.error(error); process.exit(1) })\n`,
    )
    run(process.execPath, ['probe.mjs'], { cwd: project, env, timeout: 60_000 })
    run(process.execPath, ['probe.cjs'], { cwd: project, env, timeout: 60_000 })
  }
  console.log(
    `\nrelease:rehearse: passed — ${published.map(({ manifest }) => `${manifest.name}@${manifest.version}`).join(', ')}`,
  )
} finally {
  stopAll()
  rmSync(work, { recursive: true, force: true })
}
