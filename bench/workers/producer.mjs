// Baseline producer: gets one end of a MessageChannel, then posts n small JSON messages on it.
import { parentPort } from 'node:worker_threads';
let port = null;
parentPort.on('message', (m) => {
  if (m.port) {
    port = m.port;
    parentPort.postMessage('ready');
    return;
  }
  const n = m.n;
  for (let i = 0; i < n; i++) port.postMessage({ i, v: 'x', last: i === n - 1 });
});
