// A task module compiled to CommonJS (type-checked only).
export default function sum(input: number[]): number {
  return input.reduce((a, b) => a + b, 0);
}
