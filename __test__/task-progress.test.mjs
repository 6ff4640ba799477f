// Progress from running tasks: a task gets `progress(value)` as its second argument, and
// `onProgress` on task, map (with the item's index) and task descriptors hears each value, in
// order and before the task settles. Values go through the message codec; progress after the
// task settled is dropped.
import assert from 'node:assert/strict';
import { describe, slowTest, waitFor, withSup } from './harness.mjs';

const T = 60000;
const fixture = (name) => new URL(`./fixtures/${name}`, import.meta.url);
const settle = (p) => p.then((value) => ({ value }), (error) => ({ error }));

describe('task progress', () => {
  slowTest('progress values reach onProgress in order, all before the task resolves', T, async () => {
    await withSup({}, async (sup) => {
      const seen = [];
      let resolvedAfter = -1;
      const p = sup.task(
        async (n, { progress }) => {
          for (let i = 1; i <= n; i++) {
            progress({ done: i, of: n });
            if (i % 10 === 0) await new Promise((r) => setTimeout(r, 1));
          }
          progress('last');
          progress(); // undefined is a value too
          return 'result';
        },
        50,
        { onProgress: (v) => seen.push(v) },
      );
      const r = await p.then((v) => ((resolvedAfter = seen.length), v));
      assert.equal(r, 'result');
      assert.equal(resolvedAfter, 52, 'every progress value was delivered before the result');
      assert.deepEqual(seen.slice(0, 3), [{ done: 1, of: 50 }, { done: 2, of: 50 }, { done: 3, of: 50 }]);
      assert.deepEqual(seen.slice(48), [{ done: 49, of: 50 }, { done: 50, of: 50 }, 'last', undefined]);
    });
  });

  slowTest('a task called without onProgress may still call progress (checked, then dropped); the second argument is the same for module tasks', T, async () => {
    await withSup({}, async (sup) => {
      assert.equal(await sup.task((x, helpers) => (helpers.progress(1), typeof helpers.progress), 0), 'function');
      const seen = [];
      assert.equal(await sup.task(fixture('task-progress.mjs'), 3, { onProgress: (v) => seen.push(v) }), 'counted 3');
      assert.deepEqual(seen, [1, 2, 3]);
      // the same module without a listener on the same thread
      assert.equal(await sup.task(fixture('task-progress.mjs'), 2), 'counted 2');
    });
  });

  slowTest('values go through the message codec: what JSON would change is refused in the task with a TypeError', T, async () => {
    await withSup({}, async (sup) => {
      const heard = [];
      for (const listen of [true, false]) {
        const r = await settle(
          sup.task(
            (x, { progress }) => {
              try {
                progress(new Map([[1, 2]]));
              } catch (err) {
                return `${err.name}: ${err.message}`;
              }
              return 'accepted';
            },
            null,
            listen ? { onProgress: (v) => heard.push(v) } : undefined,
          ),
        );
        assert.match(r.value, /^TypeError: progress: value: a Map cannot be sent/);
      }
      assert.deepEqual(heard, []);
      // an uncaught one fails the task like any throw
      const r = await settle(sup.task((x, { progress }) => progress(() => 1), null, { onProgress() {} }));
      assert.ok(r.error instanceof TypeError);
      assert.match(r.error.message, /progress: value: a function cannot be sent/);
    });
  });

  slowTest('progress after the task settled is dropped (the thread goes on to the next task unheard)', T, async () => {
    await withSup({ tasks: { maxThreads: 1 } }, async (sup) => {
      const first = [];
      const r = await sup.task(
        (x, { progress }) => {
          progress('during');
          // runs after the task returned, while the thread is idle or on the next task
          setTimeout(() => progress('late'), 0);
          setTimeout(() => progress('later'), 20);
          return 'one';
        },
        null,
        { onProgress: (v) => first.push(v) },
      );
      assert.equal(r, 'one');
      const second = [];
      // the next task on the same (only) thread outlives both timers and reports its own progress
      const r2 = await sup.task(
        async (x, { progress }) => {
          await new Promise((res) => setTimeout(res, 60));
          progress('mine');
          return 'two';
        },
        null,
        { onProgress: (v) => second.push(v) },
      );
      assert.equal(r2, 'two');
      assert.deepEqual(first, ['during']);
      assert.deepEqual(second, ['mine']);
    });
  });

  slowTest('a task stopped by its timeout or signal: its progress up to then was heard, nothing after', T, async () => {
    await withSup({}, async (sup) => {
      const seen = [];
      const ac = new AbortController();
      const p = settle(
        sup.task(
          (x, { progress }) => {
            progress('started');
            for (;;) {}
          },
          null,
          { signal: ac.signal, onProgress: (v) => seen.push(v) },
        ),
      );
      await waitFor(() => seen.length === 1, 20000, 'the first progress');
      ac.abort('enough');
      const r = await p;
      assert.equal(r.error.name, 'AbortError');
      assert.deepEqual(seen, ['started']);
    });
  });

  slowTest('map: onProgress(value, index) per item, including for transferred inputs', T, async () => {
    await withSup({ memory: { poolSize: 4, boxSize: '4kb' } }, async (sup) => {
      const seen = [];
      const out = await sup.map(
        [10, 20, 30],
        (x, { progress }) => {
          progress(x + 1);
          progress(x + 2);
          return x * 2;
        },
        { concurrency: 2, onProgress: (v, i) => seen.push([i, v]) },
      );
      assert.deepEqual(out, [20, 40, 60]);
      const byItem = (i) => seen.filter(([j]) => j === i).map(([, v]) => v);
      assert.deepEqual([byItem(0), byItem(1), byItem(2)], [[11, 12], [21, 22], [31, 32]]);

      const streamed = [];
      const got = [];
      for await (const v of sup.mapStream(['a', 'b'], (s, { progress }) => (progress(s.toUpperCase()), s), { onProgress: (v, i) => streamed.push(`${i}${v}`) })) {
        got.push(v);
      }
      assert.deepEqual(got, ['a', 'b']);
      assert.deepEqual(streamed.sort(), ['0A', '1B']);

      const sizes = [];
      const n = await sup.task((bytes, { progress }) => (progress(bytes.byteLength), bytes.length), new Uint8Array(100), {
        transfer: true,
        onProgress: (v) => sizes.push(v),
      });
      assert.equal(n, 100);
      assert.deepEqual(sizes, [100]);
    });
  });

  slowTest('task descriptors of sup.tasks helpers take onProgress', T, async () => {
    await withSup({}, async (sup) => {
      const seen = [];
      const fn = (x, { progress }) => (progress(x), x);
      const out = await sup.tasks.all([
        { fn, input: 1, onProgress: (v) => seen.push(`a${v}`) },
        { fn, input: 2, onProgress: (v) => seen.push(`b${v}`) },
      ]);
      assert.deepEqual(out, [1, 2]);
      assert.deepEqual(seen.sort(), ['a1', 'b2']);
    });
  });

  slowTest('an onProgress that throws is reported as an error event; the task goes on', T, async () => {
    await withSup({}, async (sup) => {
      const errors = [];
      sup.on('error', (e) => errors.push(e));
      const r = await sup.task((x, { progress }) => (progress(1), progress(2), 'ok'), null, {
        onProgress: (v) => {
          if (v === 1) throw new Error('listener bug');
        },
      });
      assert.equal(r, 'ok');
      assert.equal(errors.length, 1);
      assert.equal(errors[0].reason, 'onProgress threw');
      assert.equal(errors[0].error.message, 'listener bug');
    });
  });

  slowTest('onProgress is validated: a TypeError naming it', T, async () => {
    await withSup({}, async (sup) => {
      assert.throws(() => sup.task(() => 1, null, { onProgress: 'x' }), (e) => e instanceof TypeError && /task: options\.onProgress must be a function/.test(e.message));
      assert.throws(() => sup.map([1], (x) => x, { onProgress: 1 }), (e) => e instanceof TypeError && /map: options\.onProgress must be a function/.test(e.message));
      assert.throws(() => sup.mapStream([1], (x) => x, { onProgress: {} }), (e) => e instanceof TypeError && /onProgress must be a function/.test(e.message));
      assert.throws(() => sup.tasks.all([{ fn: (x) => x, onProgress: null }]), (e) => e instanceof TypeError && /tasks\.all: list\[0\]\.onProgress must be a function/.test(e.message));
      assert.equal(sup.tasks.stats().threads, 0, 'nothing was started');
    });
  });
});
