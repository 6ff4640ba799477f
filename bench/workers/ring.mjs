// Baseline ring member: a token { t, h } that arrives (from the previous member's port, or from
// the host to start it) goes on to the next member while hops remain; the last hop tells the host.
import { parentPort } from 'node:worker_threads';
let next = null;
const onToken = (m) => {
  if (m.h > 0) next.postMessage({ t: m.t, h: m.h - 1 });
  else parentPort.postMessage(m.t);
};
parentPort.on('message', (m) => {
  if (m.setup) {
    next = m.next;
    m.prev.on('message', onToken);
    parentPort.postMessage('ready');
  } else {
    onToken(m);
  }
});
