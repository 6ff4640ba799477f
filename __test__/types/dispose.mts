// `await using`: a supervisor is AsyncDisposable (its dispose is shutdown()).
import { createSupervisor, type Supervisor } from 'warden';
import { expectType } from './assert.mjs';

export async function scoped(): Promise<number> {
  await using sup = createSupervisor({ warmWorkers: 0 });
  const disposable: AsyncDisposable = sup;
  expectType<Promise<void>>()(sup[Symbol.asyncDispose]());
  return sup.spawn((self, n: number) => n + 1).call(41);
}

export function notSync(sup: Supervisor): void {
  // @ts-expect-error it is not a (sync) Disposable: shutting down takes time
  using s = sup;
}
