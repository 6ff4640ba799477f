// Task for bench/tasks.mjs (warden module task and piscina worker alike): returns `n` bytes.
export default (n) => new Uint8Array(n).fill(1);
