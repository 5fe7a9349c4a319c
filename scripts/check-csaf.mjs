#!/usr/bin/env node
// Validates CSAF 2.0 documents with BSI/secvisogram's @secvisogram/csaf-validator-lib: the strict
// JSON schema and every mandatory test (section 6.1), i.e. the library's "basic" preset.
//
//   node scripts/check-csaf.mjs [--optional] FILE...
//
// --optional also runs the optional tests (6.2) and prints their findings without failing.
// The library is imported from $CSAF_VALIDATOR_DIR/node_modules when that is set (see
// scripts/check-csaf.sh, which installs it there), else resolved as a normal package.
// Exit status: 0 all documents pass, 1 a document fails, 2 usage or setup error.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

const args = process.argv.slice(2)
const optional = args.includes('--optional')
const files = args.filter((a) => a !== '--optional')
if (files.length === 0) {
  console.error('usage: node scripts/check-csaf.mjs [--optional] FILE...')
  process.exit(2)
}

async function load(module) {
  const dir = process.env.CSAF_VALIDATOR_DIR
  const spec = dir
    ? pathToFileURL(join(dir, 'node_modules/@secvisogram/csaf-validator-lib', module)).href
    : `@secvisogram/csaf-validator-lib/${module}`
  try {
    return await import(spec)
  } catch (e) {
    console.error(`cannot load ${spec}: ${e.message}\nrun scripts/check-csaf.sh, which installs it`)
    process.exit(2)
  }
}

const validate = (await load('validate.js')).default
const basic = await load('basic.js')
const optionalTests = optional ? await load('optionalTests.js') : {}

let failed = 0
for (const file of files) {
  let doc
  try {
    doc = JSON.parse(await readFile(file, 'utf8'))
  } catch (e) {
    console.log(`${file}: not JSON: ${e.message}`)
    failed++
    continue
  }
  const result = await validate(Object.values(basic), doc)
  for (const test of result.tests) {
    for (const e of test.errors) console.log(`${file}: ${test.name}: ${e.instancePath} ${e.message}`)
  }
  if (optional) {
    const extra = await validate(Object.values(optionalTests), doc)
    for (const test of extra.tests) {
      for (const w of [...test.errors, ...test.warnings]) {
        console.log(`${file}: (optional) ${test.name}: ${w.instancePath} ${w.message}`)
      }
    }
  }
  console.log(`${file}: ${result.isValid ? 'valid' : 'INVALID'} (${result.tests.length} tests)`)
  if (!result.isValid) failed++
}
console.log(`${files.length - failed} passed, ${failed} failed`)
process.exit(failed ? 1 : 0)
