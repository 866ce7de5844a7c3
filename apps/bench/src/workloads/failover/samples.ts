/**
 * Every finished call of a case, in columns (end time, latency, outcome index): a case records
 * millions of calls, and one object per call would feed the garbage collector during the measurement.
 */
export class Samples {
  private ends = new Float64Array(1 << 16)
  private latencies = new Float64Array(1 << 16)
  private outcomes = new Uint16Array(1 << 16)
  private size = 0
  /** Outcome labels; index 0 is '' (answered by Redis). */
  private readonly labels: string[] = ['']
  private readonly indexOf = new Map<string, number>([['', 0]])

  get count(): number {
    return this.size
  }

  record(endMs: number, latencyMs: number, outcome: string): void {
    if (this.size === this.ends.length) this.grow()
    let index = this.indexOf.get(outcome)
    if (index === undefined) {
      index = this.labels.push(outcome) - 1
      this.indexOf.set(outcome, index)
    }
    this.ends[this.size] = endMs
    this.latencies[this.size] = latencyMs
    this.outcomes[this.size] = index
    this.size++
  }

  endMs(index: number): number {
    return this.ends[index]!
  }

  latencyMs(index: number): number {
    return this.latencies[index]!
  }

  /** '' when Redis answered, else the label the call resolved with or `error:<code>`. */
  outcome(index: number): string {
    return this.labels[this.outcomes[index]!]!
  }

  private grow(): void {
    const grown = <T extends Float64Array | Uint16Array>(from: T, to: T) => {
      to.set(from)
      return to
    }
    const length = this.ends.length * 2
    this.ends = grown(this.ends, new Float64Array(length))
    this.latencies = grown(this.latencies, new Float64Array(length))
    this.outcomes = grown(this.outcomes, new Uint16Array(length))
  }
}
