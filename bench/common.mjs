// Helpers the benchmark scripts share: percentiles, a guard that turns a hang into an error,
// waiting for a worker's reply, CPU time (the process's, a thread's or another process's), and the lines every report starts with (which commit and addon
// were measured, and how busy the machine was meanwhile).

import fs from 'node:fs';
import os from 'node:os';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const repoDir = fileURLToPath(new URL('..', import.meta.url));

/** The `p`-th percentile of `a` (nearest rank). */
export function percentile(a, p) {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

/** The median of `a` (the lower one for an even count). */
export const median = (a) => percentile(a, 50);

/** Rejects if `p` does not settle within `ms` (so a warden hang is reported, not waited on). */
export function within(p, ms, label) {
  let timer;
  return Promise.race([
    p,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`HANG: ${label} did not finish within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** The next message of worker `w` (rejects on its next error instead). */
export function onceMessage(w) {
  return new Promise((resolve, reject) => {
    const onMsg = (m) => {
      w.off('error', onErr);
      resolve(m);
    };
    const onErr = (e) => {
      w.off('message', onMsg);
      reject(e);
    };
    w.once('message', onMsg);
    w.once('error', onErr);
  });
}

/** CPU time (user + system) of this process, all of its threads, in ms. */
export function processCpuMs() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

const TICK_MS = 10; // USER_HZ is 100 on Linux

/**
 * CPU time (utime + stime) in ms of what a /proc stat file describes (`/proc/<pid>/stat` for a
 * process, `/proc/self/task/<tid>/stat` for one thread), in 10 ms ticks; null where it cannot
 * be read (not Linux, a process that is gone).
 */
export function procCpuMs(statPath) {
  try {
    const stat = fs.readFileSync(statPath, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from the 3rd on
    return (Number(f[11]) + Number(f[12])) * TICK_MS; // utime, stime (fields 14 and 15)
  } catch {
    return null;
  }
}

/** CPU time of this process's main thread (the host's) alone, in ms (10 ms ticks), or null. */
export const mainThreadCpuMs = () => procCpuMs(`/proc/self/task/${process.pid}/stat`);

/** CPU ticks: whole machine (busy, total) and this process with its waited-for children. */
function cpuTicks() {
  try {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const total = f.reduce((a, b) => a + b, 0);
    const busy = total - f[3] - (f[4] || 0);
    const st = fs.readFileSync('/proc/self/stat', 'utf8');
    const g = st.slice(st.lastIndexOf(')') + 2).split(' ').map(Number); // g[0] is field 3
    const self = g[11] + g[12] + g[13] + g[14]; // utime, stime, cutime, cstime (fields 14–17)
    return { total, busy, self };
  } catch {
    return null;
  }
}

/**
 * Starts watching the machine's load; `report()` then gives the line that says how loaded it
 * was before and after, and how much CPU other processes took in between.
 */
export function watchLoad() {
  const loadBefore = os.loadavg()[0];
  const before = cpuTicks();
  return {
    report() {
      const after = cpuTicks();
      let other = '';
      if (before && after) {
        const ncpu = os.cpus().length;
        const total = (after.total - before.total) / ncpu; // ticks per CPU
        const used = after.busy - before.busy - (after.self - before.self);
        other = `; other processes used ${Math.max(0, used / total).toFixed(2)} of ${ncpu} CPUs on average during the run`;
      }
      return `load average (1 min) ${loadBefore.toFixed(2)} before, ${os.loadavg()[0].toFixed(2)} after${other}`;
    },
  };
}

/** "commit <sha>[ + uncommitted changes…]; addon built <time>": what a report measured. */
export function provenance() {
  const git = (...a) => spawnSync('git', a, { cwd: repoDir, encoding: 'utf8' }).stdout?.trim() ?? '';
  const commit = git('rev-parse', '--short', 'HEAD') || 'unknown';
  const dirty = git('status', '--porcelain', '--untracked-files=no', '--', 'lib', 'src', 'crate', 'index.js')
    ? ' + uncommitted changes in lib/src/crate'
    : '';
  let built = 'unknown';
  try {
    const addon = fs.readdirSync(repoDir).find((f) => /^warden\..*\.node$/.test(f));
    if (addon) built = fs.statSync(`${repoDir}/${addon}`).mtime.toISOString();
  } catch {}
  return `commit ${commit}${dirty}; addon built ${built}`;
}
