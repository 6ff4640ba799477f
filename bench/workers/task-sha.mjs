// Task for bench/tasks.mjs: SHA-256 over 64 KiB made from the seed (no input copy cost).
import { createHash } from 'node:crypto';

const buf = Buffer.alloc(64 * 1024);

export default (seed) => {
  buf.fill(seed & 255);
  buf.writeUInt32LE(seed >>> 0, 0);
  return createHash('sha256').update(buf).digest('hex');
};
