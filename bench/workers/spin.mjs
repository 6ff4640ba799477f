// Baseline: echoes, except 'hang', which spins forever (killed by the host with terminate()).
import { parentPort } from 'node:worker_threads';
parentPort.on('message', (m) => {
  if (m === 'hang') for (;;);
  parentPort.postMessage(m);
});
