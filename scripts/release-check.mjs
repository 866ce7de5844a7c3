#!/usr/bin/env node
// Proves each published package works when installed on its own from its tarball:
// build → publint --strict → attw (node16 + bundler) → pnpm pack → npm install of the tarball in a
// fresh project outside the workspace → one ESM import and one CJS require, with no side effects.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')
const run = (command, args, cwd = root) => {
  const shown = command === 'node' ? `node ${args[0]} -e <import probe>` : `${command} ${args.join(' ')}`
  console.log(`$ ${shown}${cwd === root ? '' : `  (in ${cwd})`}`)
  execFileSync(command, args, { cwd, stdio: 'inherit' })
}

const published = readdirSync(join(root, 'packages'))
  .map((dir) => ({
    dir: join(root, 'packages', dir),
    manifest: JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')),
  }))
  .filter(({ manifest }) => !manifest.private)
  // RELEASE_CHECK_ONLY=@x/a,@x/b narrows the check while developing; CI checks everything.
  .filter(
    ({ manifest }) =>
      !process.env.RELEASE_CHECK_ONLY || process.env.RELEASE_CHECK_ONLY.split(',').includes(manifest.name),
  )
  .sort((a, b) => (a.manifest.name === '@x/redis-core' ? -1 : b.manifest.name === '@x/redis-core' ? 1 : 0))

run('pnpm', [
  'exec',
  'turbo',
  'run',
  'build',
  '--output-logs=errors-only',
  ...published.map(({ manifest }) => `--filter=${manifest.name}`),
])

const work = mkdtempSync(join(tmpdir(), 'x-release-check-'))
const tarballs = new Map()
try {
  for (const { dir, manifest } of published) {
    run('pnpm', ['exec', 'publint', '--strict'], dir)
    run('pnpm', ['exec', 'attw', '--pack', '.', '--profile', 'node16'], dir)
    const before = new Set(readdirSync(work))
    run('pnpm', ['pack', '--pack-destination', work], dir)
    const tarball = readdirSync(work).find((file) => file.endsWith('.tgz') && !before.has(file))
    if (!tarball) throw new Error(`pnpm pack produced no tarball for ${manifest.name}`)
    tarballs.set(manifest.name, join(work, tarball))
  }

  const ioredis = JSON.parse(readFileSync(join(root, 'packages/redis-core/package.json'), 'utf8'))
    .devDependencies.ioredis
  for (const { manifest } of published) {
    const project = mkdtempSync(join(work, 'consumer-'))
    const ours = { [manifest.name]: `file:${tarballs.get(manifest.name)}` }
    // Internal dependencies come from their tarballs too: nothing of ours is fetched from a registry.
    for (const dependency of Object.keys(manifest.dependencies ?? {})) {
      if (tarballs.has(dependency)) ours[dependency] = `file:${tarballs.get(dependency)}`
    }
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify(
        { name: 'consumer', private: true, dependencies: { ...ours, ioredis }, overrides: ours },
        null,
        2,
      ),
    )
    run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], project)
    // Both module systems run the same check inside an async function (CJS has no top-level await).
    const probe = (load) => `
      const count = (list) => list.reduce((map, name) => map.set(name, (map.get(name) ?? 0) + 1), new Map())
      ;(async () => {
        const before = count(process.getActiveResourcesInfo())
        const mod = ${load}
        const names = Object.keys(mod)
        if (names.length === 0) throw new Error('${manifest.name} exports nothing')
        // No side effects at import: once module loading settles, nothing new keeps the loop alive.
        await new Promise((resolve) => setTimeout(resolve, 100))
        const after = count(process.getActiveResourcesInfo())
        const opened = [...after].filter(([name, n]) => n > (before.get(name) ?? 0)).map(([name]) => name)
        if (opened.length > 0) throw new Error('importing ${manifest.name} left handles open: ' + opened.join(', '))
        console.log('${manifest.name}: ' + names.length + ' exports, no side effects')
      })().catch((error) => { console.error(error); process.exit(1) })
    `
    run('node', ['--input-type=module', '-e', probe(`await import('${manifest.name}')`)], project)
    run('node', ['--input-type=commonjs', '-e', probe(`require('${manifest.name}')`)], project)
  }
  console.log(`release:check passed for ${published.length} packages`)
} finally {
  rmSync(work, { recursive: true, force: true })
}
