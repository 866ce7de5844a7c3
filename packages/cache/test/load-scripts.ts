import type { RedisClient } from '@x/redis-core'
import { deleteScript } from '../src/scripts/delete.lua.js'
import { fillScript } from '../src/scripts/fill.lua.js'
import { invalidateTagsScript } from '../src/scripts/invalidate-tags.lua.js'
import { releaseLeaseScript } from '../src/scripts/release-lease.lua.js'
import { tagVersionsScript } from '../src/scripts/tag-versions.lua.js'
import { writeScript } from '../src/scripts/write.lua.js'

/**
 * Loads every script on every master, so round-trip counts measure the steady state and not the
 * one-time NOSCRIPT → EVAL fallback of a node that has not seen a script yet. The tag scripts have
 * the same source (and SHA) for every key count, so loading one count loads them all.
 */
export async function loadScripts(redis: RedisClient): Promise<void> {
  const scripts = [
    deleteScript,
    fillScript,
    releaseLeaseScript,
    writeScript,
    tagVersionsScript(1),
    invalidateTagsScript(1),
  ]
  await Promise.all(scripts.map((script) => script.load(redis)))
}
