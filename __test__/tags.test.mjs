// The reply tags of task threads have one definition, lib/tasks/tags.js: the runner that writes
// them and the pool that reads them both take them from there (neither declares a tag of its
// own), every tag is a distinct small integer, and the reply shapes runner.js documents in its
// header use the same numbers. The Rust core never reads these tags, so there is no Rust side to
// compare (the envelope kinds and send codes are compared in kinds.test.mjs).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { describe, test } from './harness.mjs';

const TAGS = createRequire(import.meta.url)('../lib/tasks/tags.js');
const read = (path) => fs.readFileSync(new URL(path, import.meta.url), 'utf8');
const REPLIES = ['FAIL', 'OK', 'UNDEF', 'LOST', 'BOX', 'PROGRESS', 'PARCEL', 'BYTES_PARCEL', 'CHANNEL'];

describe('task reply tags', () => {
  test('are distinct integers, and the call wrapper is none of them', () => {
    const values = REPLIES.map((name) => TAGS[name]);
    assert.ok(values.every(Number.isInteger), `not all integers: ${values}`);
    assert.equal(new Set(values).size, values.length, 'two tags share a number');
    assert.ok(Number.isInteger(TAGS.WITH_PROGRESS) && !values.includes(TAGS.WITH_PROGRESS));
    assert.deepEqual(Object.keys(TAGS).sort(), [...REPLIES, 'WITH_PROGRESS'].sort());
    assert.ok(Object.isFrozen(TAGS));
  });

  test('the runner and the pool import them and declare none of their own', () => {
    for (const file of ['../lib/tasks/runner.js', '../lib/tasks/pool.js']) {
      const src = read(file);
      assert.match(src, /require\('\.\/tags\.js'\)/, `${file} does not import tags.js`);
      const own = [...src.matchAll(/^const (R_)?(\w+) = (-?\d+);/gm)].filter(([, , name]) => name in TAGS);
      assert.deepEqual(own.map(([line]) => line), [], `${file} declares tags itself`);
      assert.doesNotMatch(src, /\bR_[A-Z]+\b/, `${file} still uses an R_ name`);
    }
  });

  test('the reply shapes documented by runner.js use these numbers', () => {
    const header = read('../lib/tasks/runner.js').split('\n').filter((l) => l.startsWith('//')).join('\n');
    const documented = {
      OK: /`\[(\d+), ms, value\]`/,
      UNDEF: /`\[(\d+), ms\]` \(undefined\)/,
      FAIL: /`\[(\d+), ms, error\]`/,
      LOST: /`\[(\d+), threadId\]`/,
      BOX: /`\[(\d+), ms, \[boxIndex, epoch, kind\]\]`/,
      PROGRESS: /reply `\[(\d+), value\]`/,
      PARCEL: /`\[(\d+), ms, \[parcel, j\]\]`/,
      BYTES_PARCEL: /`\[(\d+), ms, \[parcel, kind\]\]`/,
      CHANNEL: /`\[(\d+), ms, \[gen, id, j\]\]`/,
      WITH_PROGRESS: /`\[(-\d+), port, corr, call\]`/,
    };
    for (const [name, re] of Object.entries(documented)) {
      const m = header.match(re);
      assert.ok(m, `runner.js no longer documents the ${name} reply`);
      assert.equal(Number(m[1]), TAGS[name], `runner.js documents ${name} as ${m[1]}`);
    }
  });
});
