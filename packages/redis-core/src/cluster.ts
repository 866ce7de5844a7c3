import { Cluster, type Redis } from 'ioredis'
import type { RedisClient } from './create-redis.js'
import { toRedisError } from './redis-error.js'
import { redisCall } from './timeout.js'

export function isCluster(client: RedisClient): client is Cluster {
  return client instanceof Cluster || (client as { isCluster?: boolean }).isCluster === true
}

/** The master connections: every node of a Cluster that owns slots, or the client itself. */
export function masters(client: RedisClient): Redis[] {
  return isCluster(client) ? client.nodes('master') : [client]
}

const CRC16_TABLE = (() => {
  const table = new Uint16Array(256)
  for (let i = 0; i < 256; i++) {
    let crc = i << 8
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1
    table[i] = crc & 0xffff
  }
  return table
})()

/** The Cluster hash slot of a key (CRC16/XMODEM of its hash tag, mod 16384), as Redis computes it. */
export function slotOf(key: string | Buffer): number {
  const bytes = typeof key === 'string' ? Buffer.from(key) : key
  let start = 0
  let end = bytes.length
  const open = bytes.indexOf(0x7b) // {
  if (open !== -1) {
    const close = bytes.indexOf(0x7d, open + 1) // }
    if (close > open + 1) {
      start = open + 1
      end = close
    }
  }
  let crc = 0
  for (let i = start; i < end; i++)
    crc = ((crc << 8) ^ CRC16_TABLE[((crc >> 8) ^ bytes[i]!) & 0xff]!) & 0xffff
  return crc & 16383
}

/**
 * Groups items by the hash slot of their key, keeping input order inside each group, so each group
 * can be one pipeline or one multi-key command on Cluster. On a single server everything is one group.
 */
export function groupBySlot<T>(client: RedisClient, items: readonly T[], keyOf: (item: T) => string): T[][] {
  if (!isCluster(client)) return items.length === 0 ? [] : [items.slice()]
  const groups = new Map<number, T[]>()
  for (const item of items) {
    const slot = slotOf(keyOf(item))
    const group = groups.get(slot)
    if (group) group.push(item)
    else groups.set(slot, [item])
  }
  return [...groups.values()]
}

export interface ScanOptions {
  /** SCAN MATCH pattern. */
  match: string
  /** SCAN COUNT hint: keys examined per call. @default 500 */
  count?: number
  /** Deadline of each SCAN or UNLINK call; a paused server fails the walk with TimeoutError. @default 1000 */
  timeoutMs?: number
}

/**
 * Walks every master with SCAN and yields batches of keys: never KEYS, which blocks the server.
 * A key may appear twice (SCAN guarantees only that keys present for the whole walk appear).
 */
export async function* scanKeys(client: RedisClient, options: ScanOptions): AsyncGenerator<string[]> {
  const count = options.count ?? 500
  for (const node of masters(client)) {
    let cursor = '0'
    do {
      const reply = (await redisCall(
        node.scan(cursor, 'MATCH', options.match, 'COUNT', count),
        options.timeoutMs ?? 1000,
        'SCAN',
      )) as [string, string[]]
      cursor = reply[0]
      if (reply[1].length > 0) yield reply[1]
    } while (cursor !== '0')
  }
}

/**
 * Deletes every key matching `match` with SCAN + UNLINK in batches on every master: the
 * replacement for the KEYS command followed by `DEL`. Returns the number of keys removed.
 */
export async function unlinkByPattern(client: RedisClient, options: ScanOptions): Promise<number> {
  const timeoutMs = options.timeoutMs ?? 1000
  let removed = 0
  for (const node of masters(client)) {
    let cursor = '0'
    do {
      const scan = node.scan(cursor, 'MATCH', options.match, 'COUNT', options.count ?? 500)
      const [next, keys] = (await redisCall(scan, timeoutMs, 'SCAN')) as [string, string[]]
      cursor = next
      if (keys.length > 0) {
        // On a cluster node, one UNLINK may only name keys of one slot.
        const batches = isCluster(client) ? groupBySlot(client, keys, (key) => key) : [keys]
        const pipeline = node.pipeline()
        for (const batch of batches) pipeline.unlink(...batch)
        const results = (await redisCall(pipeline.exec(), timeoutMs, 'UNLINK')) ?? []
        for (const [error, count] of results) {
          if (error) throw toRedisError(error)
          removed += Number(count)
        }
      }
    } while (cursor !== '0')
  }
  return removed
}
