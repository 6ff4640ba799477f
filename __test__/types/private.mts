// Only what index.d.ts marks `export` is public: its type-level helpers are not importable
// (a declaration file without `export {}` would export every top-level declaration).
// @ts-expect-error the key refs carry their types under exists only in the types
import { refTypes } from 'warden';
// @ts-expect-error a helper type of matchAll
import type { MatchKeys } from 'warden';

export const unused = [refTypes] as const;
export type Unused = MatchKeys<{ msg: 'a' }>;
