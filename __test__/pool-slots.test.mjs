// The table a pool worker finds its actors in (lib/pool/slots.js): indexed by the slab slot of
// an id, it must still tell actors of one slot apart by their whole id (generations), work for
// ids far above 2^32, and give a page back when its last actor goes.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, test } from './harness.mjs';

const { SlotTable, SLOT_BITS } = createRequire(import.meta.url)('../lib/pool/slots.js');
const idOf = (slot, generation) => generation * 2 ** SLOT_BITS + slot;
const entry = (id) => ({ id });

describe('pool worker slot table', () => {
  test('finds an actor by its id, and not an earlier or later actor of the same slot', () => {
    const t = new SlotTable();
    const a = entry(idOf(5, 0));
    t.set(a.id, a);
    assert.equal(t.get(a.id), a);
    assert.equal(t.get(idOf(5, 1)), undefined, 'a later generation of slot 5 is another actor');
    assert.equal(t.delete(idOf(5, 1)), false, 'deleting another generation leaves it');
    assert.equal(t.get(a.id), a);
    const b = entry(idOf(5, 1));
    t.set(b.id, b); // its slot's next actor replaces it
    assert.equal(t.get(a.id), undefined);
    assert.equal(t.get(b.id), b);
    assert.equal(t.size, 1);
  });

  test('ids above 2^32 (late generations) and the highest slot', () => {
    const t = new SlotTable();
    const high = entry(idOf(2 ** SLOT_BITS - 1, 2 ** 28)); // just below 2^53
    const low = entry(idOf(0, 300));
    t.set(high.id, high);
    t.set(low.id, low);
    assert.ok(high.id > 2 ** 52 && Number.isSafeInteger(high.id));
    assert.equal(t.get(high.id), high);
    assert.equal(t.get(low.id), low);
    assert.equal(t.get(idOf(0, 301)), undefined);
    assert.deepEqual([...t.values()], [low, high], 'values in slot order');
  });

  test('size, values and pages follow sets and deletes', () => {
    const t = new SlotTable();
    const ids = Array.from({ length: 1000 }, (_, i) => idOf(i * 7, i % 3));
    for (const id of ids) t.set(id, entry(id));
    assert.equal(t.size, 1000);
    assert.equal(t.pages.filter((p) => p !== undefined).length, Math.ceil((999 * 7 + 1) / 256));
    for (const id of ids.slice(0, 500)) assert.equal(t.delete(id), true);
    assert.equal(t.delete(ids[0]), false, 'already gone');
    assert.equal(t.size, 500);
    assert.deepEqual([...t.values()].map((e) => e.id), ids.slice(500));
    for (const id of ids.slice(500)) t.delete(id);
    assert.equal(t.size, 0);
    assert.equal(t.pages.filter((p) => p !== undefined).length, 0, 'every page given back');
  });
});
