// Task for bench/tasks.mjs (warden module task and piscina worker alike): returns a string of `n` characters.
export default (n) => 'y'.repeat(n);
