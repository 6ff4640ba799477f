// `npm run demo`: a supervisor with a few actors, messages in and out, and one actor that hangs
// in `while (true) {}`. Its per-message deadline kills the thread; the supervisor restarts it
// while the other actors keep answering.
import { createSupervisor, runtimeStats } from '../index.mjs';

const t0 = performance.now();
const log = (...a) => console.log(`[${(performance.now() - t0).toFixed(1).padStart(7)} ms]`, ...a);

const sup = createSupervisor({ maxActors: 10, warmWorkers: 2 });
sup.on('spawn', (e) => log(`spawned  ${e.id}${e.name ? ` (${e.name})` : ''}`));
sup.on('exit', (e) => log(`exit     ${e.id} reason=${e.reason}${e.message ? ` while handling ${JSON.stringify(e.message.message)}` : ''}`));
sup.on('restart', (e) => log(`restart  ${e.id} -> incarnation ${e.incarnation}`));

// A greeter: answers calls with a greeting, and emits an event each time.
const greeter = sup.spawn((self, msg) => {
  self.send('greeted', msg.name);
  return `hello, ${msg.name}`;
}, { name: 'greeter' });

// A counter: stateful between messages of one incarnation (module-free: it keeps state on globalThis).
const counter = sup.spawn((self, msg) => {
  globalThis.count = (globalThis.count ?? 0) + msg;
  return globalThis.count;
}, { name: 'counter' });

// A worker that hangs forever on "hang"; its 200 ms deadline is enforced by a Rust timer thread.
const fragile = sup.spawn((self, msg) => {
  if (msg === 'hang') while (true) {} // eslint-disable-line no-constant-condition
  return `done: ${msg}`;
}, { name: 'fragile', timeoutMs: 200 });

greeter.subscribe((m) => log(`event    ${m.msg} ${JSON.stringify(m.data)} from ${m.from}`));

log(await greeter.call({ name: 'Ada' }));
log('counter =', await counter.call(5));
log(await fragile.call('warm-up'));

log('sending "hang" to fragile, then two more messages that will wait in its mailbox');
const hung = fragile.call('hang', { timeoutMs: 2000 }).catch((err) => `call failed: ${err.message}`);
const queued = [fragile.call('after-1'), fragile.call('after-2')];

for (let i = 0; i < 5; i++) {
  log(`meanwhile greeter: ${await greeter.call({ name: `user-${i}` })}; counter = ${await counter.call(1)}`);
  await new Promise((r) => setTimeout(r, 50));
}
log(await hung);
for (const r of await Promise.all(queued)) log(`fragile (incarnation ${fragile.incarnation}): ${r}`);

const d = sup.getDiagnostics().value;
log('diagnostics:', JSON.stringify({
  activeActors: d.activeActors,
  totalActorsSpawned: d.totalActorsSpawned,
  restarts: d.restarts,
  deadLetters: d.deadLetters,
  actors: d.actors.map((a) => ({ id: a.id, name: a.name, incarnation: a.incarnation, messages: a.messageCount, lastError: a.lastError })),
}, null, 2));

await sup.shutdown();
log('after shutdown:', JSON.stringify(runtimeStats()));
