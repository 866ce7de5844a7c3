import { slotOf } from '@x/redis-core'
import type { Scope } from './state.js'

// The lease script reads the entry and takes the lease in one call, so on a Cluster the lease key
// must live in the entry's hash slot.

/** True when Redis hashes only a `{tag}` of the key (a non-empty one), not the whole key. */
function hasHashTag(key: string): boolean {
  const open = key.indexOf('{')
  return open !== -1 && key.indexOf('}', open + 1) > open + 1
}

const slotTags = new Map<number, string>()

/** A short tag that hashes to `slot`, found once per slot (about 16,000 tries). */
function tagForSlot(slot: number): string {
  let tag = slotTags.get(slot)
  for (let index = 0; tag === undefined; index++) {
    const candidate = index.toString(36)
    if (slotOf(candidate) === slot) tag = candidate
  }
  slotTags.set(slot, tag)
  return tag
}

/** The lease key of `key`, in the same hash slot as its entry. */
export function leaseKeyOf(scope: Pick<Scope, 'valuePrefix' | 'leasePrefix'>, key: string): string {
  const full = scope.valuePrefix + key
  // The prefix has no braces, so a tag in the entry key comes from `key` and is kept.
  if (hasHashTag(full)) return scope.leasePrefix + key
  // The whole entry key is hashed: made the lease key's tag, it names the same slot...
  if (!full.includes('}')) return `${scope.leasePrefix}{${full}}`
  // ...unless it contains '}' (a rare key such as 'a}b'): then a tag found for its slot.
  return `${scope.leasePrefix}{${tagForSlot(slotOf(full))}}${key}`
}
