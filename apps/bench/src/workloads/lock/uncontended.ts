import { guard } from '../../harness/runner.js'
import type { ContenderFactory } from '../../harness/types.js'
import type { LockFamily } from './families.js'

/** acquire + release of a resource no one else wants: each in-flight slot has its own resource. */
export function uncontended(family: LockFamily): ContenderFactory {
  return guard(family.implementation, async (context) => {
    const locker = await family.open(context)
    const prefix = context.prefix('lock-acquire')
    const resources = Array.from({ length: 1024 }, (_, slot) => `${prefix}:r${slot}`)
    return {
      implementation: family.implementation,
      operation: async (worker) => {
        const release = await locker.acquire(resources[worker]!, 10_000)
        await release()
      },
      close: () => locker.close?.(),
    }
  })
}
