// Floor for the idle cost: a worker that says it is up, then blocks in Atomics.wait (a futex
// wait: its event loop, and the runtime's own timers and GC tasks on it, never run again).
import { parentPort } from 'node:worker_threads';
const word = new Int32Array(new SharedArrayBuffer(4));
parentPort.postMessage('up');
setTimeout(() => Atomics.wait(word, 0, 0), 0); // after the message has left
