import { resolve } from 'node:path'
import { configDefaults, type UserWorkspaceConfig } from 'vitest/config'

const root = import.meta.dirname
const published = ['redis-core', 'cache', 'session', 'ratelimit', 'lock', 'pubsub']

/**
 * The test settings every package shares: the @x packages resolve to their sources (no rebuild
 * between edits), one standalone server plus one cluster are shared across files, an unhandled
 * rejection or uncaught exception fails the test it happened in, and `*.test-d.ts` type tests are
 * checked by tsc as part of the same `vitest run`. Failover suites (`*.failover.test.ts`: a replicated
 * cluster per file, masters killed on purpose, minutes of work) run only with X_FAILOVER=1, which
 * `pnpm test:failover` sets.
 */
export function sharedTestConfig(packageDir: string): UserWorkspaceConfig {
  return {
    resolve: {
      alias: published.map((name) => ({
        find: `@x/${name}`,
        replacement: resolve(root, 'packages', name, 'src/index.ts'),
      })),
    },
    test: {
      root: packageDir,
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      exclude: process.env.X_FAILOVER
        ? configDefaults.exclude
        : [...configDefaults.exclude, '**/*.failover.test.ts'],
      globalSetup: [resolve(root, 'packages/testkit/src/global-setup.ts')],
      setupFiles: [resolve(root, 'packages/testkit/src/unhandled-trap.ts')],
      typecheck: {
        enabled: true,
        checker: 'tsc',
        include: ['src/**/*.test-d.ts', 'test/**/*.test-d.ts'],
        tsconfig: resolve(packageDir, 'tsconfig.json'),
      },
      testTimeout: 30_000,
      hookTimeout: 60_000,
      pool: 'forks',
      // Two cores: more workers only add contention to timing-sensitive concurrency tests.
      maxWorkers: 2,
    },
  }
}
