// Piscina worker for bench/tasks.mjs: returns `n` bytes, transferred back (Piscina.move) instead of cloned.
import { move } from 'piscina';

export default (n) => move(new Uint8Array(n).fill(1));
