// Baseline idle worker: says it is up, then waits (kept alive by its parentPort listener).
import { parentPort } from 'node:worker_threads';
parentPort.on('message', (m) => parentPort.postMessage(m));
parentPort.postMessage('up');
