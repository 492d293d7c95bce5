'use strict'
// Generates the two Prisma clients the bench uses from prisma/schema.prisma:
// SQLite as written, and a PostgreSQL copy (provider and output rewritten).
// Prisma runs offline: `prisma generate` only needs PRISMA_SCHEMA_ENGINE_BINARY
// to name an existing file, and the clients use driver adapters (no engine).
const fs = require('node:fs')
const path = require('node:path')
const { execFileSync } = require('node:child_process')

const bench = path.resolve(__dirname, '..')
const schemaPath = path.join(__dirname, 'schema.prisma')
const outDir = path.join(bench, 'generated')

const variants = [
  { provider: 'sqlite', output: path.join(outDir, 'prisma-sqlite') },
  { provider: 'postgresql', output: path.join(outDir, 'prisma-postgres') },
]

function isFresh() {
  const schemaTime = fs.statSync(schemaPath).mtimeMs
  return variants.every((v) => {
    const marker = path.join(v.output, 'index.js')
    return fs.existsSync(marker) && fs.statSync(marker).mtimeMs >= schemaTime
  })
}

function generate({ force = false, quiet = false } = {}) {
  if (!force && isFresh()) return
  const schema = fs.readFileSync(schemaPath, 'utf8')
  fs.mkdirSync(outDir, { recursive: true })
  const cli = require.resolve('prisma/build/index.js', { paths: [bench] })
  const env = {
    ...process.env,
    PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY || process.execPath,
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
    CHECKPOINT_DISABLE: '1',
  }
  for (const v of variants) {
    const text = schema
      .replace(/provider\s*=\s*"sqlite"/, `provider = "${v.provider}"`)
      .replace(/output\s*=\s*"[^"]*"/, `output   = ${JSON.stringify(v.output)}`)
    const file = path.join(outDir, `schema.${v.provider}.prisma`)
    fs.writeFileSync(file, text)
    execFileSync(process.execPath, [cli, 'generate', '--schema', file], {
      cwd: bench,
      env,
      stdio: quiet ? 'ignore' : ['ignore', 'inherit', 'inherit'],
    })
  }
}

module.exports = { generate }

if (require.main === module) generate({ force: process.argv.includes('--force') })
