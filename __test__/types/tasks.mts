// Tasks are typed by their function, or by their module's type; `task<R>` types an untyped
// module's result.
import { createSupervisor, type TaskDescriptor } from 'warden';
import { expectType } from './assert.mjs';

export async function tasks(): Promise<void> {
  const sup = createSupervisor({ tasks: { maxThreads: 2, idleTimeoutMs: 1000 } });

  // a function task: input and result from the function
  const sum = sup.task(({ a, b }: { a: number; b: number }) => a + b, { a: 1, b: 2 });
  expectType<Promise<number>>()(sum);
  // the input is inferred from the argument when the function does not annotate it
  expectType<Promise<number>>()(sup.task(({ a, b }) => a + b, { a: 1, b: 2 }));
  // @ts-expect-error a wrong input
  sup.task((n: number) => n * 2, 'two');
  // @ts-expect-error the result is a number
  const str: string = await sup.task((n: number) => n * 2, 2);
  const made: Uint8Array = await sup.task(async (n: number) => new Uint8Array(n), 4, { transfer: true });
  // @ts-expect-error a misspelt task option
  sup.task((n: number) => n, 1, { timeout: 10 });
  sup.task((n: number) => n, 1, { timeoutMs: 10, signal: AbortSignal.timeout(100), resourceLimits: { maxOldGenerationSizeMb: 64 } });

  // module tasks: typed by the module's type, or by the result type alone, else unknown
  const url = new URL('./hash-task.mjs', import.meta.url);
  const hash = sup.task<typeof import('./hash-task.mjs')>(url, { text: 'x' });
  expectType<Promise<string>>()(hash);
  // @ts-expect-error the module takes { text }
  sup.task<typeof import('./hash-task.mjs')>(url, 'x');
  expectType<Promise<number>>()(sup.task<number>('./count.mjs', [1, 2]));
  // a task module compiled to CommonJS
  expectType<Promise<number>>()(sup.task<typeof import('./cjs-task.cjs')>('./cjs-task.cjs', [1, 2]));
  // @ts-expect-error it takes numbers
  sup.task<typeof import('./cjs-task.cjs')>('./cjs-task.cjs', ['1']);
  expectType<Promise<unknown>>()(sup.task(url, 'anything'));
  // @ts-expect-error an untyped module's result is unknown (no silent assertion from the variable's type)
  const guessed: string = await sup.task(url, 'x');

  // map and mapStream
  expectType<Promise<number[]>>()(sup.map([1, 2, 3], (x: number) => x * x, { concurrency: 2 }));
  expectType<Promise<number[]>>()(sup.map([1, 2, 3], (x) => x * x));
  expectType<Promise<PromiseSettledResult<number>[]>>()(sup.map([1, 2], (x: number) => x, { settle: true }));
  expectType<Promise<string[]>>()(sup.map<typeof import('./hash-task.mjs')>([{ text: 'a' }], url));
  // @ts-expect-error items must be the module's input
  sup.map<typeof import('./hash-task.mjs')>(['a'], url);
  expectType<Promise<unknown[]>>()(sup.map(['a'], url));
  // @ts-expect-error a wrong item type for the function
  sup.map(['a'], (x: number) => x);
  // @ts-expect-error a misspelt map option
  sup.map([1], (x: number) => x, { concurency: 2 });
  for await (const v of sup.mapStream([1, 2], async (x: number) => `${x}`)) expectType<string>()(v);
  for await (const v of sup.mapStream<typeof import('./hash-task.mjs')>([{ text: 'a' }], url, { settle: true })) {
    expectType<PromiseSettledResult<string>>()(v);
  }

  // progress: the task's second argument, heard by onProgress (map: with the item's index)
  const counted = sup.task((n: number, task) => {
    task.progress({ done: 1, of: n });
    return n;
  }, 3, { onProgress: (v) => expectType<unknown>()(v) });
  expectType<Promise<number>>()(counted);
  sup.map([1, 2], (x: number, { progress }) => (progress(x), x), { onProgress: (v, index) => expectType<number>()(index) });
  // @ts-expect-error onProgress is a function
  sup.task((x: number) => x, 1, { onProgress: 'log' });

  // helpers over promises and descriptors
  const d: TaskDescriptor<number, number> = { fn: (n: number) => n + 1, input: 1, timeoutMs: 100 };
  const [a, b] = await sup.tasks.all([d, Promise.resolve('x')] as const);
  expectType<number>()(a);
  expectType<string>()(b);
  expectType<number>()(sup.tasks.stats().queued);
  await sup.shutdown();
}
