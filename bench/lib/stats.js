'use strict'
// Percentiles and medians over plain arrays of numbers.

function percentile(values, p) {
  if (values.length === 0) return NaN
  const sorted = Float64Array.from(values).sort()
  const rank = (p / 100) * (sorted.length - 1)
  const lo = Math.floor(rank)
  const hi = Math.ceil(rank)
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo)
}

const median = (values) => percentile(values.filter((v) => Number.isFinite(v)), 50)

// A recorder of per-operation latencies in microseconds.
class Latencies {
  constructor(capacity) {
    this.values = new Float64Array(capacity)
    this.count = 0
  }
  add(us) {
    if (this.count < this.values.length) this.values[this.count++] = us
  }
  percentile(p) {
    return percentile(this.values.subarray(0, this.count), p)
  }
}

const nowNs = () => process.hrtime.bigint()
const usSince = (start) => Number(process.hrtime.bigint() - start) / 1e3

module.exports = { percentile, median, Latencies, nowNs, usSince }
