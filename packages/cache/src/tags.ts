import { invalidateTagsScript } from './scripts/invalidate-tags.lua.js'
import { tagVersionsScript } from './scripts/tag-versions.lua.js'
import type { CacheState } from './state.js'

/** Current versions of `tags`; `keepFor` > 0 creates missing ones and keeps them at least that long. */
export function tagVersions(s: CacheState, tags: readonly string[], keepFor: number): Promise<string[]> {
  return s.caller.script(
    tagVersionsScript(tags.length),
    tags.map((tag) => s.tagBase + tag),
    [keepFor],
  )
}

/**
 * Versions of `names`: from the snapshot taken before the read when it covers them all (no extra
 * round trip), else one read-only call.
 */
export async function versionsOf(
  s: CacheState,
  names: readonly string[],
  snapshotTags: readonly string[] | undefined,
  snapshot: Promise<string[]> | undefined,
): Promise<Map<string, string>> {
  if (snapshot && snapshotTags && names.every((name) => snapshotTags.includes(name))) {
    const list = await snapshot
    return new Map(snapshotTags.map((tag, index) => [tag, list[index]!]))
  }
  const list = await tagVersions(s, names, 0)
  return new Map(names.map((tag, index) => [tag, list[index]!]))
}

/** Moves every tag to a new version: entries stamped with the old one read as misses. */
export async function bumpTags(s: CacheState, tags: readonly string[]): Promise<void> {
  await s.caller.script(
    invalidateTagsScript(tags.length),
    tags.map((tag) => s.tagBase + tag),
  )
}

/** The envelope's flat [tag, version, …] list. */
export function pairUp(tags: readonly string[], versions: readonly string[]): string[] {
  const pairs: string[] = []
  tags.forEach((tag, index) => {
    pairs.push(tag, versions[index]!)
  })
  return pairs
}

export function tagNames(pairs: readonly string[] | undefined): string[] | undefined {
  if (pairs === undefined) return undefined
  const names: string[] = []
  for (let index = 0; index < pairs.length; index += 2) names.push(pairs[index]!)
  return names
}
