import { createServer } from 'node:net'

const taken = new Set<number>()

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)))
  })
}

/**
 * A free loopback port whose cluster bus port (port + 10000) is free too. Ports are drawn at random
 * from 20000–39999 so parallel test workers rarely collide, and never 6379.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 20000)
    if (taken.has(port)) continue
    if ((await canListen(port)) && (await canListen(port + 10000))) {
      taken.add(port)
      return port
    }
  }
  throw new Error('no free port found for redis-server')
}
