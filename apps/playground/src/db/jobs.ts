import type { Database } from './database.js'

export interface JobRun {
  id: number
  jobId: string
  fence: number
  instance: string
  startedAt: string
  finishedAt: string | null
}

interface JobRunRow {
  id: string | number
  job_id: string
  fence: string | number
  instance: string
  started_at: string | Date
  finished_at: string | Date | null
}

function toRun(row: JobRunRow): JobRun {
  return {
    id: Number(row.id),
    jobId: row.job_id,
    fence: Number(row.fence),
    instance: row.instance,
    startedAt: new Date(row.started_at).toISOString(),
    finishedAt: row.finished_at === null ? null : new Date(row.finished_at).toISOString(),
  }
}

export async function jobExists(db: Database, jobId: string): Promise<boolean> {
  const rows = await db.query('SELECT 1 FROM jobs WHERE id = $1', [jobId])
  return rows.length > 0
}

/**
 * The fencing check, done by the database itself: the row takes the token only if it is higher
 * than every token that wrote it before. A holder whose lease expired while it was paused carries
 * an older token, so its write matches no row and is rejected, whatever it believes.
 */
export async function claimJob(
  db: Database,
  jobId: string,
  fence: number,
  instance: string,
): Promise<boolean> {
  const rows = await db.query(
    `UPDATE jobs SET last_fence = $2, runs = runs + 1, last_instance = $3, last_run_at = now()
     WHERE id = $1 AND last_fence < $2 RETURNING id`,
    [jobId, fence, instance],
  )
  return rows.length > 0
}

export async function startRun(
  db: Database,
  jobId: string,
  fence: number,
  instance: string,
): Promise<JobRun> {
  const [row] = await db.query<JobRunRow>(
    'INSERT INTO job_runs (job_id, fence, instance) VALUES ($1, $2, $3) RETURNING *',
    [jobId, fence, instance],
  )
  return toRun(row!)
}

/** Closes the run only while the row still carries this run's token (no newer holder wrote it). */
export async function finishRun(db: Database, run: JobRun): Promise<JobRun | null> {
  const [row] = await db.query<JobRunRow>(
    `UPDATE job_runs SET finished_at = clock_timestamp()
     WHERE id = $1 AND EXISTS (SELECT 1 FROM jobs WHERE id = $2 AND last_fence = $3)
     RETURNING *`,
    [run.id, run.jobId, run.fence],
  )
  return row ? toRun(row) : null
}

export async function listRuns(db: Database, jobId: string, limit = 50): Promise<JobRun[]> {
  const rows = await db.query<JobRunRow>(
    'SELECT * FROM job_runs WHERE job_id = $1 ORDER BY id DESC LIMIT $2',
    [jobId, limit],
  )
  return rows.map(toRun)
}

export async function lastFence(db: Database, jobId: string): Promise<number | null> {
  const [row] = await db.query<{ last_fence: string | number }>('SELECT last_fence FROM jobs WHERE id = $1', [
    jobId,
  ])
  return row ? Number(row.last_fence) : null
}
