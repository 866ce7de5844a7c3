import { assertName, InvalidArgumentError } from '@x/redis-core'
import { decodeData, encodeData } from './data-encoding.js'
import { normalizeDevice } from './device.js'
import { sessionCreate } from './scripts/session-create.lua.js'
import type { StoreContext } from './store-context.js'
import { generateToken } from './token.js'
import type { SessionTraceContext } from './trace-context.js'
import type { CreateOptions, Session, SessionData } from './types.js'

export async function createSession<TData extends SessionData>(
  context: StoreContext<TData>,
  userId: string,
  data: TData,
  options: CreateOptions = {},
  trace?: SessionTraceContext,
): Promise<{ token: string; session: Session<TData> }> {
  const { codec, maxDataBytes, idleTimeoutMs, absoluteTimeoutMs, maxSessionsPerUser } = context.options
  assertName('userId', userId, 512)
  const device = normalizeDevice(options.device)
  const encoded = encodeData(codec, data, maxDataBytes)
  const { keys } = context
  for (let attempt = 0; attempt < 3; attempt++) {
    const { token, parsed } = generateToken(userId)
    if (trace) trace.roundTrips++
    const reply = await context.script(
      sessionCreate,
      [keys.session(parsed.tag, parsed.id), keys.index(userId)],
      [
        parsed.digest,
        userId,
        encoded,
        idleTimeoutMs,
        absoluteTimeoutMs,
        parsed.id,
        maxSessionsPerUser,
        device.userAgent,
        device.ip,
        device.label,
        keys.sessionPrefix(parsed.tag),
      ],
    )
    // A taken id (96 random bits) means a broken random source more than bad luck; retry anyway.
    if (!reply) continue
    const [createdAt, absoluteExpiresAt] = reply
    context.counters.creates++
    if (trace) {
      trace.sessionId = parsed.publicId
      trace.outcome = 'created'
    }
    return {
      token,
      session: {
        id: parsed.publicId,
        userId,
        data: decodeData<TData>(codec, encoded),
        createdAt,
        lastAccess: createdAt,
        absoluteExpiresAt,
        idleExpiresAt: Math.min(createdAt + idleTimeoutMs, absoluteExpiresAt),
        version: 1,
        rotated: false,
      },
    }
  }
  throw new InvalidArgumentError('could not allocate a unique session id; check the random source')
}
