// The wire constants written twice, in the Rust core and in lib/port/kinds.js, agree: every envelope
// kind (crate/src/envelope.rs), the undefined-body flag, and the send result codes
// (src/messages.rs), and the bits of an actor id that name its slab slot (crate/src/slab.rs,
// lib/pool/slots.js), and the outbox's size and acknowledgement record (crate/src/outbox.rs,
// lib/actor/outbox.js). A kind added on one side only fails here instead of as an "unknown event
// kind" at run time.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { describe, test } from './harness.mjs';

const K = createRequire(import.meta.url)('../lib/port/kinds.js');
const read = (path) => fs.readFileSync(new URL(path, import.meta.url), 'utf8');
const snake = (name) => name.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase();

describe('wire constants shared with the core', () => {
  test('every envelope kind has the same number in Rust and in lib/port/kinds.js', () => {
    const rust = read('../crate/src/envelope.rs');
    const body = rust.match(/pub enum Kind \{([\s\S]*?)\n\}/)[1];
    const kinds = [...body.matchAll(/^\s*(\w+) = (\d+),/gm)].map(([, name, n]) => [snake(name), Number(n)]);
    assert.ok(kinds.length >= 17, `found only ${kinds.length} kinds`);
    assert.deepEqual(
      kinds.filter(([name, n]) => K[name] !== n),
      [],
      'kinds whose JS value differs (or is missing)',
    );
    assert.equal(K.UNDEFINED_BODY, Number(rust.match(/pub const UNDEFINED_BODY: u8 = (\d+);/)[1]));
  });

  test('the send result codes are the same in Rust and in lib/port/kinds.js', () => {
    const rust = read('../src/messages.rs');
    const codes = Object.fromEntries(
      [...rust.matchAll(/(Ok\(\(\)\)|Err\(SendError::(\w+)\)) => (\d+),/g)].map(([, , err, n]) => [err ? snake(err) : 'QUEUED', Number(n)]),
    );
    assert.deepEqual(codes, { QUEUED: K.QUEUED, DEAD: K.DEAD, FULL: K.FULL, STALE: K.STALE, NO_PROC: K.NOPROC });
  });

  test('a pool worker finds its actors by the slot bits of their ids as the core makes them', () => {
    const rust = read('../crate/src/slab.rs');
    const { SLOT_BITS } = createRequire(import.meta.url)('../lib/pool/slots.js');
    assert.equal(SLOT_BITS, Number(rust.match(/pub const SLOT_BITS: u32 = (\d+);/)[1]));
  });

  test('the outbox ring and its binary acknowledgement record have one layout in Rust and JS', () => {
    const rust = read('../crate/src/outbox.rs');
    const js = createRequire(import.meta.url)('../lib/actor/outbox.js');
    const num = (re) => Number(rust.match(re)[1].replaceAll('_', ''));
    assert.equal(js.OUTBOX_BYTES, num(/pub const OUTBOX_BYTES: usize = (\d+) \* 1024;/) * 1024);
    assert.equal(js.ACK_TAG, num(/pub const ACK_TAG: u32 = (0x[0-9A-Fa-f_]+);/));
    assert.equal(js.ACK_BYTES, num(/pub const ACK_BYTES: usize = (\d+);/));
  });
});
