import { assertName, InvalidArgumentError } from '@x/redis-core'

/** Redis accepts any binary channel name; we refuse the ones that are always mistakes. */
export const MAX_CHANNEL_BYTES = 1024

export function assertChannel(what: string, value: unknown): string {
  return assertName(what, value, MAX_CHANNEL_BYTES)
}

/**
 * Builds a sharded channel name whose hash slot is decided by `tag` alone: `{tag}:part:part`.
 * Channels built with the same tag live on the same cluster shard, like keys sharing a hash tag,
 * so one tenant's or one room's traffic stays on one node.
 */
export function shardedChannel(tag: string, ...parts: string[]): string {
  assertChannel('tag', tag)
  if (tag.includes('{') || tag.includes('}')) {
    throw new InvalidArgumentError('tag must not contain "{" or "}"')
  }
  for (const part of parts) assertChannel('channel part', part)
  const name = parts.length === 0 ? `{${tag}}` : `{${tag}}:${parts.join(':')}`
  return assertChannel('channel', name)
}
