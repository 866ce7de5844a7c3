/**
 * Runs tasks of one name one after another (and tasks of different names in parallel). Updates of
 * one session inside a process go through it, so they never lose a compare-and-set race to each
 * other; the compare-and-set in Redis covers other processes.
 */
export function createSerialQueue(): <T>(name: string, task: () => Promise<T>) => Promise<T> {
  const tails = new Map<string, Promise<unknown>>()
  return (name, task) => {
    const previous = tails.get(name) ?? Promise.resolve()
    const run = previous.then(task, task)
    const settled = run.then(
      () => {},
      () => {},
    )
    tails.set(name, settled)
    void settled.then(() => {
      if (tails.get(name) === settled) tails.delete(name)
    })
    return run
  }
}
