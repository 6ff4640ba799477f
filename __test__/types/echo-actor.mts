// A module actor as a user writes one (type-checked only): the default export is the handler.
import type { Context, Self } from 'warden';

export default async function echo(self: Self, msg: { text: string }, ctx: Context): Promise<number> {
  ctx.heartbeat();
  return msg.text.length;
}
