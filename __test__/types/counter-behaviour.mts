// A module actor whose default export is a behaviour object (type-checked only).
import type { Behaviour } from 'warden';

type Cmd = { msg: 'add'; n: number } | { msg: 'reset' };

const counter: Behaviour<{ total: number }, Cmd> = {
  init: () => ({ total: 0 }),
  handle: (s, cmd) => (cmd.msg === 'add' ? { total: s.total + cmd.n } : { total: 0 }),
};
export default counter;
