/**
 * Latencies in microseconds, in a growable Float64Array: a million samples cost 8 MB and a typed
 * sort, with no per-sample allocation that would feed the garbage collector during a run.
 */
export class LatencyRecorder {
  private samples = new Float64Array(1 << 16)
  private size = 0

  get count(): number {
    return this.size
  }

  record(microseconds: number): void {
    if (this.size === this.samples.length) {
      const bigger = new Float64Array(this.samples.length * 2)
      bigger.set(this.samples)
      this.samples = bigger
    }
    this.samples[this.size++] = microseconds
  }

  /** Sorts once and answers several percentiles (nearest rank). */
  percentiles(...quantiles: number[]): number[] {
    if (this.size === 0) return quantiles.map(() => Number.NaN)
    const sorted = this.samples.subarray(0, this.size).sort()
    return quantiles.map((quantile) => {
      const rank = Math.min(this.size - 1, Math.max(0, Math.ceil(quantile * this.size) - 1))
      return sorted[rank]!
    })
  }
}
