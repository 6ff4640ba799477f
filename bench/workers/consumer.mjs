// Baseline consumer: counts what arrives on its MessageChannel end; reports the count on the last one.
import { parentPort } from 'node:worker_threads';
let count = 0;
parentPort.on('message', (m) => {
  if (!m.port) return;
  m.port.on('message', (x) => {
    if (x.i === 0) count = 0;
    count++;
    if (x.last) parentPort.postMessage({ done: count });
  });
  parentPort.postMessage('ready');
});
