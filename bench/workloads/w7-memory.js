'use strict'
// W7: resident memory after many queries against after a few, each read
// after garbage collection. Runs in a child process (node --expose-gc) that
// loads only shopify-db-pool, so no peer's memory is in the figures; the
// queries are point-selects, 64 in flight, as in W2.
const path = require('node:path')
const { spawn } = require('node:child_process')

async function settledMemory() {
  for (let i = 0; i < 4; i++) {
    global.gc()
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  return process.memoryUsage()
}

async function child(backend, sizes) {
  const { TABLE_ROWS } = require('../config.js')
  const { readOrder } = require('../lib/data.js')
  const { inFlight } = require('./w2-concurrent.js')
  const peer = require('../peers/ours.js')(backend)
  await peer.setup()
  const ids = readOrder(TABLE_ROWS, 100000)
  const concurrency = sizes.w2InFlight
  await inFlight(peer, { ops: sizes.w7Baseline, concurrency, ids })
  const before = await settledMemory()
  // RSS at each quarter of the run as well: a leak keeps climbing, while
  // allocator high-water noise levels off.
  const checkpoints = []
  let done = sizes.w7Baseline
  let after = before
  for (let q = 1; q <= 4; q++) {
    const target = sizes.w7Baseline + Math.round(((sizes.w7Total - sizes.w7Baseline) * q) / 4)
    await inFlight(peer, { ops: target - done, concurrency, ids, offset: done })
    done = target
    after = await settledMemory()
    checkpoints.push({ queries: done, rssMb: after.rss / (1024 * 1024) })
  }
  await peer.close()
  const mb = (b) => b / (1024 * 1024)
  return {
    baselineQueries: sizes.w7Baseline,
    totalQueries: sizes.w7Total,
    rssBeforeMb: mb(before.rss),
    rssAfterMb: mb(after.rss),
    growthMb: mb(after.rss - before.rss),
    secondHalfGrowthMb: checkpoints[3].rssMb - checkpoints[1].rssMb,
    heapGrowthMb: mb(after.heapUsed - before.heapUsed),
    externalGrowthMb: mb(after.external - before.external),
    checkpoints,
  }
}

module.exports = {
  id: 'W7',
  title: 'RSS growth between 10,000 and 1,000,000 queries, after GC',
  run(backend, sizes) {
    return new Promise((resolve, reject) => {
      const proc = spawn(process.execPath, ['--expose-gc', __filename, backend, JSON.stringify(sizes)], {
        stdio: ['ignore', 'pipe', 'inherit'],
      })
      let out = ''
      proc.stdout.on('data', (d) => (out += d))
      proc.on('error', reject)
      proc.on('close', (code) => {
        if (code !== 0) return reject(new Error(`W7 child exited with ${code}`))
        try {
          resolve(JSON.parse(out.trim().split('\n').pop()))
        } catch (err) {
          reject(new Error(`W7 child printed no result: ${out.slice(-300)}`))
        }
      })
    })
  },
}

if (require.main === module) {
  child(process.argv[2], JSON.parse(process.argv[3])).then(
    (res) => {
      process.stdout.write(JSON.stringify(res) + '\n')
      process.exit(0)
    },
    (err) => {
      console.error(err)
      process.exit(1)
    },
  )
}
