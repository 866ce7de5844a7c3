import { createLock } from '@x/lock'
import { IMPLEMENTATION } from '../../scenario-names.js'
import type { FailoverCase } from './case.js'

const RESOURCES_PER_WORKER = 64

/**
 * @x/lock acquire + release with its defaults (ttl 30 s, wait 10 s). Each in-flight slot cycles
 * through resources of its own, so the slots never wait for each other; a lock whose release was
 * lost with the old master makes its next acquirer wait (a delayed or failed call).
 */
export const lockCase: FailoverCase = {
  implementation: IMPLEMENTATION.xLock,
  operation: 'acquire + release (64 resources per slot)',
  async open({ redis, shard, prefix }) {
    const lock = createLock({ redis, prefix })
    const names = shard.pick(
      RESOURCES_PER_WORKER * 64,
      (index) => `r${index}`,
      (name) => `{${name}}`,
    )
    const turns = new Map<number, number>()
    return {
      async call(worker) {
        const turn = turns.get(worker) ?? 0
        turns.set(worker, turn + 1)
        // Slot w owns names w, w + 64, w + 128, …: up to 64 slots never share one.
        const resource = names[(worker % 64) + 64 * (turn % RESOURCES_PER_WORKER)]!
        const lease = await lock.acquire(resource)
        await lease.release()
        return undefined
      },
      close: () => lock.close(),
    }
  },
}
