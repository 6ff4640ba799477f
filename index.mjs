// ESM entry: the same module as the CommonJS entry.
import warden from './index.js';

export const {
  createSupervisor,
  Ok,
  Err,
  matchAll,
  println,
  isSystemMessage,
  TimeoutError,
  ActorExitError,
  parseSize,
  runtimeStats,
} = warden;
export default warden;
