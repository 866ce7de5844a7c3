import { execFileSync } from 'node:child_process'

let cached: { server: string; cli: string } | undefined

/**
 * Finds redis-server and redis-cli (override with REDIS_SERVER_BIN / REDIS_CLI_BIN) and fails with
 * a message that says how to install them, instead of a bare ENOENT from spawn.
 */
export function redisBinaries(): { server: string; cli: string } {
  if (cached) return cached
  const server = process.env.REDIS_SERVER_BIN || 'redis-server'
  const cli = process.env.REDIS_CLI_BIN || 'redis-cli'
  for (const bin of [server, cli]) {
    try {
      execFileSync(bin, ['--version'], { stdio: 'ignore' })
    } catch {
      throw new Error(
        `${bin} was not found. The tests start their own Redis servers and need Redis 7 installed:\n` +
          '  Debian/Ubuntu: sudo apt-get install -y redis-server\n' +
          '  macOS:         brew install redis\n' +
          'or point REDIS_SERVER_BIN and REDIS_CLI_BIN at the binaries.',
      )
    }
  }
  cached = { server, cli }
  return cached
}
