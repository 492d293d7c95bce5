'use strict'
// W5: 8 concurrent writers, each inserting rows one autocommit statement at
// a time; then every row is counted through a separate connection.
const { nowNs, usSince } = require('../lib/stats.js')
const { writeRow, WRITE_TABLE } = require('../lib/data.js')

module.exports = {
  id: 'W5',
  title: '8 concurrent writers × autocommit inserts',
  async run(peer, { sizes, admin, round }) {
    const writers = sizes.w5Writers
    const perWriter = sizes.w5RowsPerWriter
    const tag = `${peer.name}-${round}`.replace(/[^a-z0-9]+/gi, '')
    const rows = Array.from({ length: writers }, (_, w) =>
      Array.from({ length: perWriter }, (_, i) => writeRow(tag, w, i)),
    )
    await admin.resetWrites()
    const start = nowNs()
    await Promise.all(
      rows.map(async (mine) => {
        for (const row of mine) await peer.insert(row)
      }),
    )
    const totalUs = usSince(start)
    const expected = writers * perWriter
    const found = await admin.count(WRITE_TABLE)
    return { rowsPerSec: expected / (totalUs / 1e6), expected, found, verified: found === expected }
  },
}
