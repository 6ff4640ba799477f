// A module task (type-checked only): the default export takes the input, returns the result.
import { createHash } from 'node:crypto';

export default async function hash(input: { text: string }): Promise<string> {
  return createHash('sha256').update(input.text).digest('hex');
}
