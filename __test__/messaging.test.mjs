import assert from 'node:assert/strict';
import { test, describe, waitFor, collector } from './harness.mjs';
import { createSupervisor, runtimeStats } from '../index.mjs';

describe('Tier 1 messaging', () => {
  test('message shape and from injection', async () => {
    const sup = createSupervisor({ warmWorkers: 1 });
    try {
      const a = sup.spawn((self, msg) => {
        self.send('echo', { from: 'fake', value: msg.value });
      });
      const got = collector();
      a.subscribe(got);
      assert.equal(a.receive({ value: 7, from: 'fake' }), true);
      await waitFor(() => got.items.length === 1);
      assert.deepEqual(got.items[0], { msg: 'echo', data: { from: 'fake', value: 7 }, from: a.id });
      assert.ok(Object.isFrozen(got.items[0]));
    } finally {
      await sup.shutdown();
    }
    assert.deepEqual(runtimeStats(), { threads: 0, ports: 0, actors: 0 });
  });

  test('FIFO order of 10,000 messages', async () => {
    const sup = createSupervisor({ warmWorkers: 1 });
    try {
      const a = sup.spawn((self, msg) => {
        self.send('n', msg);
      });
      const got = collector();
      a.subscribe(got);
      for (let i = 0; i < 10000; i++) assert.equal(a.receive(i), true);
      await waitFor(() => got.items.length === 10000);
      got.items.forEach((m, i) => assert.equal(m.data, i));
    } finally {
      await sup.shutdown();
    }
  });
});
