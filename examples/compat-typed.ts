// Type checks (tsc strict, `npm run typecheck`) for task progress, execArgv/env and the Future
// compatibility members of ctx.fmt and readers. Lines marked @ts-expect-error must stay errors.
import { createSupervisor, println } from 'warden';
import type { ChainableReader, TaskContext } from 'warden';

async function main(): Promise<void> {
  const sup = createSupervisor({ tasks: { execArgv: ['--import', 'tsx'], env: { MODE: 'test' } } });

  // progress: the second argument of a task; onProgress on task, map and descriptors
  const total: number = await sup.task(
    (n: number, { progress }: TaskContext) => {
      for (let i = 0; i < n; i++) progress({ done: i, of: n });
      return n;
    },
    3,
    { onProgress: (v) => println(v) },
  );
  const doubled: number[] = await sup.map([1, 2], (x: number, task) => (task.progress(x), x * 2), {
    onProgress: (value, index: number) => println(index, value),
  });
  const both = await sup.tasks.all([{ fn: (x: number) => x, input: 1, onProgress: (v: unknown) => println(v) }]);
  println(total, doubled, both);
  // @ts-expect-error onProgress is a function
  void sup.task((x: number) => x, 1, { onProgress: 'log' });

  // execArgv and env of an actor's thread
  const ts = sup.spawn('./worker.ts', { execArgv: ['--import', 'tsx'], env: { LEVEL: 'debug' } });
  // @ts-expect-error env values are strings
  sup.spawn((self, msg: string) => msg, { env: { LEVEL: 1 } });
  // @ts-expect-error execArgv is a list of strings
  sup.spawn((self, msg: string) => msg, { execArgv: '--no-deprecation' });

  // Future compatibility: fmt passes bytes through, cbor exists, raw() is a Uint8Array
  sup.spawn(async (self, msg: string, ctx) => {
    const text: Uint8Array = ctx.fmt.encode(msg);
    const same: Uint8Array = ctx.fmt.encode(new Uint8Array([1]));
    const packed: Uint8Array = ctx.fmt.cbor.encode({ at: new Date() });
    println(ctx.fmt.decode(text, 'string'), same, ctx.fmt.cbor.decode(packed));
    self.send('tick'); // also a heartbeat
  });
  const read = (r: ChainableReader): Uint8Array => r.raw();
  println(read, ts.id);
  await sup.shutdown();
}

void main();
