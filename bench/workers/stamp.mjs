// Baseline of bench/call-legs.mjs: answers every message with the time it arrived
// (performance.timeOrigin + performance.now(), the clock the host reads too).
import { parentPort } from 'node:worker_threads';
parentPort.on('message', () => parentPort.postMessage(performance.timeOrigin + performance.now()));
