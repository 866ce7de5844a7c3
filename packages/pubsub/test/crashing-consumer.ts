// A stream consumer that dies (process.exit) inside its handler, before it can acknowledge.
// Spawned by stream-crash.test.ts; connection and names come from the environment.
import { createRedis } from '@x/redis-core'
import { createStream } from '../src/stream.js'

const connection = JSON.parse(process.env.X_CONNECTION!)
const redis = createRedis(connection)
const stream = createStream({
  redis,
  name: process.env.X_STREAM!,
  prefix: process.env.X_PREFIX!,
  consumer: 'doomed',
  blockMs: 200,
})
stream.on('error', () => {})
stream.consume(() => {
  process.stdout.write('handling\n')
  process.exit(17)
})
