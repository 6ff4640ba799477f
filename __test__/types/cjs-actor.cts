// A module actor compiled to CommonJS (`exports.default = fn`), type-checked only: importing
// it from ESM nests the default export one level deeper, and the types follow it.
import type { Self } from 'warden';

export default function shout(self: Self, msg: string): string {
  return msg.toUpperCase();
}
