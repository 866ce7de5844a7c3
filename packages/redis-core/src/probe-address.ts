import { connect } from 'node:net'

/**
 * Why a TCP connection to `host:port` fails: `ECONNREFUSED`, `ENOTFOUND`, `EHOSTUNREACH`,
 * `ETIMEDOUT`…, or `undefined` when it opens (then the cause is not the network). A Cluster client
 * hides this: its slot refresh runs on a throwaway connection whose error nobody sees, and reports
 * only "Connection is closed". Called once per client, after its first failure.
 */
export function probeAddress(host: string, port: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host, port })
    const done = (code: string | undefined) => {
      socket.destroy()
      resolve(code)
    }
    socket.setTimeout(timeoutMs, () => done('ETIMEDOUT'))
    socket.once('error', (error: NodeJS.ErrnoException) => done(error.code ?? error.message))
    socket.once('connect', () => done(undefined))
  })
}
