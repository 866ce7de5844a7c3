import { assertName } from '@x/redis-core'
import { userDestroy } from './scripts/user-destroy.lua.js'
import { userList } from './scripts/user-list.lua.js'
import type { StoreContext } from './store-context.js'
import { parseToken, tagFor } from './token.js'
import type { SessionTraceContext } from './trace-context.js'
import type {
  DestroyForUserOptions,
  DeviceInfo,
  ListForUserOptions,
  SessionData,
  SessionInfo,
} from './types.js'

/** The device list: a user's live sessions, oldest expiry first. */
export async function listUserSessions<TData extends SessionData>(
  context: StoreContext<TData>,
  userId: string,
  options: ListForUserOptions = {},
  trace?: SessionTraceContext,
): Promise<SessionInfo[]> {
  assertName('userId', userId, 512)
  const tag = tagFor(userId)
  const current = options.current === undefined ? null : parseToken(options.current)
  const { idleTimeoutMs } = context.options
  if (trace) trace.roundTrips++
  const reply = await context.script(
    userList,
    [context.keys.index(userId)],
    [context.keys.sessionPrefix(tag), idleTimeoutMs],
  )
  const [, ...rows] = reply
  if (trace) {
    trace.outcome = 'listed'
    trace.count = rows.length
  }
  return rows.map(([id, createdAt, lastSeen, absoluteExpiresAt, userAgent, ip, label]) => {
    const last = Number(lastSeen)
    const absolute = Number(absoluteExpiresAt)
    const device: DeviceInfo = {}
    if (userAgent) device.userAgent = userAgent
    if (ip) device.ip = ip
    if (label) device.label = label
    return {
      id: `${tag}.${id}`,
      createdAt: Number(createdAt),
      lastSeen: last,
      idleExpiresAt: Math.min(last + idleTimeoutMs, absolute),
      absoluteExpiresAt: absolute,
      device,
      current: current !== null && current.tag === tag && current.id === id,
    }
  })
}

/** "Log out everywhere (else)": one atomic script over the user's index. */
export async function destroyUserSessions<TData extends SessionData>(
  context: StoreContext<TData>,
  userId: string,
  options: DestroyForUserOptions = {},
  trace?: SessionTraceContext,
): Promise<number> {
  assertName('userId', userId, 512)
  const tag = tagFor(userId)
  const except = options.except === undefined ? null : parseToken(options.except)
  const keep = except && except.tag === tag ? except : null
  if (trace) trace.roundTrips++
  const reply = await context.script(
    userDestroy,
    [context.keys.index(userId)],
    [context.keys.sessionPrefix(tag), keep?.id ?? '', keep?.digest ?? ''],
  )
  context.counters.destroys += reply
  if (trace) {
    trace.outcome = 'destroyed'
    trace.count = reply
  }
  return reply
}
