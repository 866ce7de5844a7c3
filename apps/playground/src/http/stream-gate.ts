/**
 * Counts the open event streams per client and in total, so that one client (or many) cannot
 * hold an unbounded number of subscriptions and sockets open.
 */
export interface StreamGate {
  /** A release function, or why the stream may not open. */
  enter(client: string): (() => void) | 'client' | 'total'
  /** Streams open now. */
  readonly open: number
}

export function createStreamGate(options: { perClient: number; total: number }): StreamGate {
  const perClient = new Map<string, number>()
  let open = 0
  return {
    get open() {
      return open
    },
    enter(client) {
      const mine = perClient.get(client) ?? 0
      if (mine >= options.perClient) return 'client'
      if (open >= options.total) return 'total'
      perClient.set(client, mine + 1)
      open++
      let released = false
      return () => {
        if (released) return
        released = true
        open--
        const left = (perClient.get(client) ?? 1) - 1
        if (left === 0) perClient.delete(client)
        else perClient.set(client, left)
      }
    },
  }
}
