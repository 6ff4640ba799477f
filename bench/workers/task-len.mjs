// Task for bench/tasks.mjs: receives a large string, returns its length.
export default (s) => s.length;
