'use strict';
// The tags of a task thread's replies, written by lib/tasks/runner.js and read by
// lib/tasks/pool.js: a reply is `[tag, ms, value, heapMb?]` (see runner.js for each shape).
// They travel inside a core reply's body (`[REPLY_OK, [tag, …]]`, lib/port/kinds.js); the Rust
// core never reads them, so this file is their only definition.
module.exports = Object.freeze({
  FAIL: 0, // the task threw or rejected: [0, ms, error]
  OK: 1, // a value: [1, ms, value]
  UNDEF: 2, // the task returned undefined: [2, ms]
  LOST: 3, // the thread cannot run this call (unknown function, lost input): [3, threadId]
  BOX: 4, // a bytes result in a box of the pool (transfer): [4, ms, [boxIndex, epoch, kind]]
  PROGRESS: 5, // a progress report ahead of the result: [5, value]
  PARCEL: 6, // a large result in a parcel (lib/tasks/transfer.js): [6, ms, [parcel, j]]
  BYTES_PARCEL: 7, // a bytes result (transfer) in a bytes parcel: [7, ms, [parcel, kind]]
  CHANNEL: 8, // a large result on the thread's side channel (lib/tasks/channel.js): [8, ms, [gen, id, j]]
  // Not a reply: the head of a call wrapped with where its progress goes, [-2, port, corr, call]
  WITH_PROGRESS: -2,
});
