// The table a pool worker finds its actors in (lib/pool/slots.js): indexed by the slab slot of
// an id, it must still tell actors of one slot apart by their whole id (generations), work for
// ids far above 2^32, and give a page back when its last actor goes. A compact entry (many
// actors sharing one object until each is first looked up) must obey the same rules.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, test } from './harness.mjs';

const { SlotTable, Compact, SLOT_BITS } = createRequire(import.meta.url)('../lib/pool/slots.js');
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

  test('compact entries: made on their first lookup with their own id and incarnation, never for another generation', () => {
    const made = [];
    const t = new SlotTable((id, compact, inc) => {
      made.push(id);
      return { id, inc, shared: compact.data };
    });
    const shared = new Compact('template');
    const ids = [idOf(3, 0), idOf(4, 2 ** 28), idOf(300, 7)]; // (one in another page, one above 2^52)
    ids.forEach((id, i) => t.setCompact(id, shared, i + 1));
    assert.equal(t.size, 3);
    assert.deepEqual([...t.values()], [], 'values() skips compact entries');
    assert.equal(t.get(idOf(3, 1)), undefined, 'another generation of a compact slot is not it');
    assert.equal(t.delete(idOf(4, 0)), false);
    assert.deepEqual(made, [], 'nothing made by a miss');
    const e = t.get(ids[1]);
    assert.deepEqual(e, { id: ids[1], inc: 2, shared: 'template' });
    assert.equal(t.get(ids[1]), e, 'made once, then kept');
    assert.deepEqual([...t.values()], [e]);
    assert.equal(t.dropCompactOf(ids[0], 9), false, 'not with another incarnation');
    assert.equal(t.dropCompactOf(ids[1], 2), false, 'nor once made');
    assert.equal(t.dropCompactOf(ids[0], 1), true);
    assert.equal(t.get(ids[0]), undefined);
    assert.equal(t.size, 2);
    assert.deepEqual(made, [ids[1]]);
    t.setCompact(ids[0], shared, 5);
    assert.equal(t.dropCompact(), 2, 'the two compact ones, not the one made');
    assert.equal(t.size, 1);
    assert.equal(t.get(ids[1]), e);
    assert.equal(t.delete(ids[1]), true);
    assert.equal(t.pages.filter((p) => p !== undefined).length, 0, 'every page given back');
  });
});
