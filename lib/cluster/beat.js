'use strict';
// The cluster thread: a worker_thread with its own NATS connection that keeps this node's
// heartbeats flowing and runs the failure detector, so that a host JS thread busy for seconds
// is not declared down (DESIGN.md 9). It tells the host `{ type: 'up' | 'down' | 'epoch' |
// 'refused' | 'error' | 'closed' }`; the host says `{ type: 'bye' }` when it leaves.

const { parentPort, workerData } = require('node:worker_threads');
const { connectNats } = require('./transport.js');
const { Heartbeats } = require('./heartbeats.js');
const { deriveKey } = require('./envelope.js');

const { config, epoch } = workerData;
const CHECKS_PER_BEAT = 4; // the detector looks 4 times per heartbeat period: DOWN within 5.25 s
const RETRY_MS = 500;

let leaving = false;
let transport = null;
let hb = null;
let timer = null;

parentPort.on('message', async (m) => {
  if (m.type !== 'bye' || leaving) return;
  leaving = true;
  clearInterval(timer);
  if (hb) hb.bye();
  if (transport) {
    await transport.flush().catch(() => {});
    await transport.close().catch(() => {});
  }
  parentPort.postMessage({ type: 'closed' });
  parentPort.close();
});

async function main() {
  let said;
  while (!leaving) {
    try {
      transport = await connectNats(config, `warden ${config.node} heartbeats`);
      break;
    } catch (err) {
      if (said !== err.message) parentPort.postMessage({ type: 'error', message: (said = err.message) });
      await new Promise((r) => setTimeout(r, RETRY_MS));
    }
  }
  if (leaving) {
    await transport?.close().catch(() => {});
    return;
  }
  hb = new Heartbeats({
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
  timer = setInterval(() => hb.tick(performance.now()), config.heartbeatMs / CHECKS_PER_BEAT);
}

main();
