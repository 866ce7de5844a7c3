import { LockLostError, LockTimeoutError } from '@x/lock'
import { Hono } from 'hono'
import type { AppEnv } from '../app-env.js'
import { claimJob, finishRun, jobExists, lastFence, listRuns, startRun } from '../db/jobs.js'
import { requireAuth } from '../http/auth.js'
import { badRequest, problem } from '../http/json-body.js'

const jobIdPattern = /^[a-z0-9][a-z0-9-]{0,63}$/

/** Thrown inside the lock when the database refused this run's fencing token. */
class StaleFenceError extends Error {
  override name = 'StaleFenceError'
  constructor(
    message: string,
    /** True when the lock's counter, not the holder, was behind: worth one retry. */
    readonly counterBehind: boolean,
  ) {
    super(message)
  }
}

function boundedInteger(value: string | undefined, name: string, fallback: number, max: number): number {
  if (value === undefined || value === '') return fallback
  const parsed = Number(value)
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > max) {
    throw badRequest(`${name} must be an integer in 0..${max}`)
  }
  return parsed
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason)
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal.reason)
    }
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

/**
 * Jobs run under a Redis lock, and every write they make carries the lease's fencing token, which
 * the database checks: a run whose lease was lost (a long GC pause, a partition) cannot overwrite
 * the work of the holder that came after it, even though it still thinks it holds the lock.
 */
export function jobRoutes() {
  return new Hono<AppEnv>()
    .post('/jobs/:id/run', async (c) => {
      const { db, lock, instanceId, publishEvent } = c.var.services
      const jobId = c.req.param('id')
      if (!jobIdPattern.test(jobId)) throw badRequest('job id must be lowercase letters, digits and dashes')
      await requireAuth(c)
      // How long to queue behind a running job (0: refuse at once) and how long the "work" takes.
      const waitMs = boundedInteger(c.req.query('waitMs'), 'waitMs', 10_000, 60_000)
      const workMs = boundedInteger(c.req.query('workMs'), 'workMs', 300, 30_000)
      if (!(await jobExists(db, jobId))) throw problem(404, 'Not Found', `no job "${jobId}"`)

      // Monotonic: the wait is how long the lock took, measured up to the moment it was granted.
      const requestedAt = performance.now()
      let waitedMs = 0
      const resource = `job:${jobId}`
      void publishEvent({ type: 'job', jobId, fence: -1, instance: instanceId, status: 'queued' })
      const attempt = () =>
        lock.withLock(
          resource,
          async (signal, lease) => {
            waitedMs = Math.round(performance.now() - requestedAt)
            if (!(await claimJob(db, jobId, lease.fence, instanceId))) {
              // Refused although we hold the lock: either our lease was lost already, or Redis lost
              // the fencing counter (restarted without persistence) and mints tokens the database
              // has seen. In the second case, raise the lock's fence floor to the database's highest
              // token (the next lease then gets a higher one) and retry.
              const accepted = (await lastFence(db, jobId)) ?? 0
              if (lease.held && accepted >= lease.fence) {
                await lock.raiseFence(resource, accepted)
                throw new StaleFenceError(
                  `fencing counter was behind the database (${lease.fence} <= ${accepted})`,
                  true,
                )
              }
              throw new StaleFenceError(`the database rejected fencing token ${lease.fence}`, false)
            }
            const started = await startRun(db, jobId, lease.fence, instanceId)
            void publishEvent({
              type: 'job',
              jobId,
              fence: lease.fence,
              instance: instanceId,
              status: 'started',
              waitedMs,
            })
            await sleep(workMs, signal)
            const finished = await finishRun(db, started)
            if (!finished)
              throw new StaleFenceError(`a newer token wrote job ${jobId} during run ${started.id}`, false)
            return finished
          },
          { waitMs, ttlMs: 5000 },
        )
      try {
        const run = await attempt().catch((error: unknown) => {
          if (error instanceof StaleFenceError && error.counterBehind) {
            console.warn(`[jobs] ${error.message}; counter raised, retrying once`)
            return attempt()
          }
          throw error
        })
        void publishEvent({
          type: 'job',
          jobId,
          fence: run.fence,
          instance: instanceId,
          status: 'finished',
          waitedMs,
        })
        return c.json({
          job: jobId,
          fence: run.fence,
          instance: instanceId,
          waitedMs,
          run,
        })
      } catch (error) {
        if (LockTimeoutError.isInstance(error)) {
          throw problem(
            409,
            'Conflict',
            `job "${jobId}" is running elsewhere; not started (waited ${waitMs} ms)`,
          )
        }
        if (error instanceof StaleFenceError || LockLostError.isInstance(error)) {
          void publishEvent({ type: 'job', jobId, fence: -1, instance: instanceId, status: 'rejected' })
          throw problem(409, 'Conflict', `run of "${jobId}" rejected: ${(error as Error).message}`)
        }
        throw error
      }
    })
    .get('/jobs/:id', async (c) => {
      const { db, lock } = c.var.services
      const jobId = c.req.param('id')
      if (!jobIdPattern.test(jobId)) throw badRequest('job id must be lowercase letters, digits and dashes')
      await requireAuth(c)
      const fence = await lastFence(db, jobId)
      if (fence === null) throw problem(404, 'Not Found', `no job "${jobId}"`)
      const [runs, state] = await Promise.all([listRuns(db, jobId), lock.inspect(`job:${jobId}`)])
      return c.json({ job: jobId, lastFence: fence, lock: state, runs })
    })
}
