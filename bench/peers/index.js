'use strict'
// The contenders on each backend. Every adapter has the same shape:
//   { name, backend, ours?, sync?, setup(), pointSelect(id), select1(),
//     insert(row), health?(), concurrent3?(), close() }
// pointSelect/select1/insert may return a promise, or (sync) the value itself.
// A contender with `workloads` (a list of ids) runs only those.
const ours = require('./ours.js')

const peers = {
  sqlite: () => [ours('sqlite'), require('./better-sqlite3.js')(), require('./sqlite3.js')(), require('./prisma.js')('sqlite')],
  postgres: () => [ours('postgres'), ours('postgres', { leased: true }), require('./pg.js')(), require('./postgres.js')(), require('./prisma.js')('postgres'), ...require('./scale.js')()],
  mysql: () => [ours('mysql'), require('./mysql2.js')()],
}

module.exports = { peers, BACKENDS: Object.keys(peers) }
