'use strict'
// index.d.ts serves a strict TypeScript consumer: __test__/types/consumer.ts
// imports the package by name (through package.json `exports` → `types`) and
// uses every export; `tsc --strict --noEmit` must pass. The consumer holds one
// `@ts-expect-error` misuse, so types too loose to catch it fail the check.
const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const ROOT = path.resolve(__dirname, '..')
const TSC = path.join(ROOT, 'node_modules', '.bin', 'tsc')
const PROJECT = path.join(__dirname, 'types', 'tsconfig.json')

function tsc(...args) {
  return spawnSync(TSC, ['-p', PROJECT, '--strict', '--noEmit', '--pretty', 'false', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
  })
}

test('typescript is installed locally', () => {
  expect(fs.existsSync(TSC)).toBe(true)
})

test('a strict TypeScript consumer type-checks against index.d.ts', () => {
  const r = tsc()
  if (r.status !== 0) {
    // Show the compiler's complaints in the test output.
    throw new Error(`tsc exited with ${r.status}\n${r.stdout}${r.stderr}`)
  }
  expect(r.status).toBe(0)
}, 120_000)

test('the package name resolves to index.d.ts through package.json exports', () => {
  const r = tsc('--traceResolution')
  expect(r.status).toBe(0)
  const line = r.stdout
    .split('\n')
    .find((l) => l.startsWith("======== Module name 'shopify-db-pool' was successfully resolved"))
  expect(line).toBeDefined()
  expect(line).toContain(`'${path.join(ROOT, 'index.d.ts')}'`)
}, 120_000)
