'use strict';
// The cluster thread: a worker_thread with its own NATS connection that keeps this node's
// heartbeats flowing and runs the failure detector, so that a host JS thread busy for seconds
// is not declared down (DESIGN.md 9). It tells the host `{ type: 'up' | 'down' | 'epoch' |
// 'state' | 'error' }`; the host says `{ type: 'bye' }` when it leaves.

const { parentPort, workerData } = require('node:worker_threads');
const { connectNats } = require('./transport.js');
const { Heartbeats } = require('./heartbeats.js');
const { deriveKey } = require('./envelope.js');

const { config, epoch } = workerData;
const CHECKS_PER_BEAT = 4; // the detector looks 4 times per heartbeat period: DOWN within 5.25 s

async function main() {
  let transport;
  try {
    transport = await connectNats(config, `warden ${config.node} heartbeats`);
  } catch (err) {
    parentPort.postMessage({ type: 'error', message: err.message });
    return;
  }
  transport.onStatus((state) => parentPort.postMessage({ type: 'state', state }));
  const hb = new Heartbeats({
    transport,
    key: deriveKey(config.secret),
    subject: `${config.prefix}.hb`,
    node: config.node,
    epoch,
    heartbeatMs: config.heartbeatMs,
    downAfterMs: config.downAfterMs,
    clock: () => performance.now(),
    emit: (ev) => parentPort.postMessage(ev),
  });
  hb.tick(performance.now());
  const timer = setInterval(() => hb.tick(performance.now()), config.heartbeatMs / CHECKS_PER_BEAT);
  parentPort.on('message', async (m) => {
    if (m.type !== 'bye') return;
    clearInterval(timer);
    hb.bye();
    await transport.flush().catch(() => {});
    await transport.close().catch(() => {});
    parentPort.postMessage({ type: 'closed' });
    parentPort.close();
  });
  parentPort.postMessage({ type: 'ready' });
}

main();
