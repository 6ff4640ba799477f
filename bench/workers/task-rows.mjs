// Task for bench/tasks.mjs (warden module task and piscina worker alike): returns `n` small
// objects (about 33 bytes of JSON each: 32000 of them are ≈ 1 MiB).
export default (n) => Array.from({ length: n }, (_, i) => ({ i, name: `row ${i}`, ok: true }));
