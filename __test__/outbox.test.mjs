// The writing side of an outbox ring (lib/actor/outbox.js), over a ring in JS memory that this
// test drains itself the way crate/src/outbox.rs does: every text record holds the UTF-8 bytes
// of what was put (short ASCII texts are copied four characters per word store, anything else
// encoded), and a pool worker's acknowledgement is five words naming the actor in full, also
// above 2^32. The real ring and its reader are covered end to end by the pooled and messaging
// suites; this one pins the bytes.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, test } from './harness.mjs';

const { Outbox, OUTBOX_BYTES, ACK_TAG, ACK_BYTES } = createRequire(import.meta.url)('../lib/actor/outbox.js');
const WRAP = 0xffffffff;

/** An outbox over plain memory; `records()` drains it as the core would: `[target, bytes | words]`. */
function ring() {
  const control = new Uint32Array(8);
  const u8 = new Uint8Array(OUTBOX_BYTES);
  const u32 = new Uint32Array(u8.buffer);
  const out = [];
  const drain = () => {
    let tail = control[3];
    const head = control[2];
    while (tail !== head) {
      const pos = tail % OUTBOX_BYTES;
      const len = u32[pos >>> 2];
      if (len === WRAP) {
        tail += OUTBOX_BYTES - pos;
        continue;
      }
      const target = u32[(pos >>> 2) + 1];
      const body = u8.slice(pos + 8, pos + 8 + len);
      const words = len === ACK_BYTES ? [...u32.subarray((pos >>> 2) + 2, (pos >>> 2) + 7)] : null;
      out.push(words !== null && words[0] === ACK_TAG ? { target, ack: words.slice(1) } : { target, bytes: body });
      tail += (8 + len + 3) & ~3;
    }
    control[3] = tail;
  };
  const sweeping = new Int32Array([1]);
  const outbox = new Outbox(control, u8, drain, sweeping);
  return {
    outbox,
    records() {
      drain();
      return out.splice(0);
    },
  };
}

const encoder = new TextEncoder();

describe('outbox ring writer', () => {
  test('a text record holds the UTF-8 bytes of every short and long, ASCII and other text', () => {
    const { outbox, records } = ring();
    const texts = [''];
    for (let n = 1; n <= 70; n++) texts.push('x'.repeat(n - 1) + String.fromCharCode(48 + (n % 10)));
    // a character outside ASCII at each place of a word, and in the tail after the last word
    for (let at = 0; at < 9; at++) texts.push(`${'a'.repeat(at)}é${'b'.repeat(8 - at)}`);
    texts.push('"ünïcödé"', '"😀"', '{"k":"\u007f\u0080"}', 'ÿ', `"${'z'.repeat(63)}é"`);
    for (const [i, text] of texts.entries()) assert.equal(outbox.put(i + 1, text), true);
    const got = records();
    assert.equal(got.length, texts.length);
    for (const [i, text] of texts.entries()) {
      assert.equal(got[i].target, i + 1);
      assert.deepEqual([...got[i].bytes], [...encoder.encode(text)], JSON.stringify(text));
    }
  });

  test('records keep their order and bytes across the end of the ring', () => {
    const { outbox, records } = ring();
    const seen = [];
    for (let i = 0; i < 5000; i++) {
      outbox.put(7, JSON.stringify({ i, pad: 'é'.repeat(i % 5) }));
      if (i % 700 === 0) seen.push(...records());
    }
    seen.push(...records());
    assert.equal(seen.length, 5000);
    seen.forEach((r, i) => assert.deepEqual(JSON.parse(new TextDecoder().decode(r.bytes)), { i, pad: 'é'.repeat(i % 5) }));
  });

  test('an acknowledgement is five words naming the actor in full, also above 2^32', () => {
    const { outbox, records } = ring();
    const big = 2 ** 52 + 12345;
    outbox.putAck(3, 42);
    outbox.putAck(0, big, 16);
    outbox.putAck(4294967295, 2 ** 32);
    assert.deepEqual(records(), [
      { target: 0, ack: [1, 3, 42, 0] },
      { target: 0, ack: [16, 0, big % 2 ** 32, Math.floor(big / 2 ** 32)] },
      { target: 0, ack: [1, 4294967295, 0, 1] },
    ]);
  });
});
