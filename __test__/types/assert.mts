// Type-level assertions for the type tests: `expectType<T>()(value)` fails to compile unless
// the value's type is exactly T (not merely assignable), so `any` never passes for a real type.

/** True when A and B are the same type (`any` equals only `any`). */
export type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

/** Compiles only for `true`. */
export type Expect<T extends true> = T;

/** `expectType<T>()(value)`: compiles only when `value` is exactly a `T`. */
export function expectType<T>() {
  return <V,>(value: V & (Equal<V, T> extends true ? unknown : never)): V => value;
}
