// Task for bench/tasks.mjs (warden module task and piscina worker alike): a tiny computation.
export default ({ a, b }) => a + b;
