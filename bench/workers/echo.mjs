// Baseline: echoes every message back to the host (postMessage ping-pong).
import { parentPort } from 'node:worker_threads';
parentPort.on('message', (m) => parentPort.postMessage(m));
