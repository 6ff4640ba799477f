// Habits of the source kept by a test instead of by hand: every Rust module of the core and the
// binding opens with a `//!` module doc; every `unsafe fn` of ours, private ones included, says
// when it may be called in a `# Safety` doc section (trait methods, whose contract the trait
// documents, excepted; clippy's missing_safety_doc sees only public ones); every JS file under
// lib/ starts with a comment saying what it is for. (That every `unsafe` block has a
// `// SAFETY:` comment is clippy's undocumented_unsafe_blocks, on in Cargo.toml's lints.)
// And docs/ARCHITECTURE.md, which lists the modules and folders, names each of them.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from './harness.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const rustFiles = () =>
  ['crate/src', 'src'].flatMap((dir) =>
    fs
      .readdirSync(path.join(ROOT, dir))
      .filter((f) => f.endsWith('.rs'))
      .map((f) => `${dir}/${f}`),
  );
const lines = (file) => fs.readFileSync(path.join(ROOT, file), 'utf8').split('\n');
const code = (line) => line.replace(/\/\/.*$/, '').replace(/"(?:[^"\\]|\\.)*"/g, '""');

/** `unsafe fn`s (not trait methods: `impl … for` blocks) whose doc has no `# Safety` section. */
function unsafeFnsWithoutContract(file, text) {
  const out = [];
  let inTraitImpl = false;
  text.forEach((line, i) => {
    if (/^(unsafe )?impl\b.*\bfor\b/.test(line)) inTraitImpl = true;
    else if (/^\S/.test(line) && !/^[}#/]/.test(line)) inTraitImpl = false;
    if (inTraitImpl || !/\bunsafe\s+(extern\s+"C"\s+)?fn\s+\w+/.test(code(line))) return;
    let j = i - 1;
    const doc = [];
    while (j >= 0 && /^\s*(\/\/\/|#\[)/.test(text[j])) doc.push(text[j--]);
    if (!doc.some((l) => /^\s*\/\/\/\s*# Safety/.test(l))) out.push(`${file}:${i + 1}`);
  });
  return out;
}

describe('source rules', () => {
  test('every Rust module of the core and the binding has a module doc', () => {
    const files = rustFiles();
    assert.ok(files.length >= 25, `found only ${files.length} files`);
    assert.deepEqual(
      files.filter((f) => !lines(f)[0].startsWith('//!')),
      [],
    );
  });

  test('every unsafe fn of ours has a # Safety section', () => {
    const bare = ['/// Does g.', 'unsafe fn f() {}'];
    assert.deepEqual(unsafeFnsWithoutContract('x.rs', bare), ['x.rs:2'], 'the check finds a missing section');
    assert.deepEqual(unsafeFnsWithoutContract('x.rs', ['/// Does g.', '///', '/// # Safety', '/// Never.', 'unsafe fn f() {}']), []);
    assert.deepEqual(
      rustFiles().flatMap((f) => unsafeFnsWithoutContract(f, lines(f))),
      [],
    );
  });

  test('every JS file under lib/ opens with a comment saying what it is for', () => {
    const files = [];
    const walk = (dir) => {
      for (const e of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
        if (e.isDirectory()) walk(`${dir}/${e.name}`);
        else if (/\.[cm]?js$/.test(e.name)) files.push(`${dir}/${e.name}`);
      }
    };
    walk('lib');
    assert.ok(files.length >= 40, `found only ${files.length} files`);
    const first = (f) => lines(f).find((l) => l.trim() !== '' && l.trim() !== "'use strict';") ?? '';
    assert.deepEqual(
      files.filter((f) => !first(f).startsWith('//')),
      [],
    );
  });

  test('docs/ARCHITECTURE.md names every module of both crates and every folder of lib/', () => {
    const doc = fs.readFileSync(path.join(ROOT, 'docs/ARCHITECTURE.md'), 'utf8');
    const modules = rustFiles().map((f) => path.basename(f));
    const folders = fs
      .readdirSync(path.join(ROOT, 'lib'), { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => `lib/${e.name}/`);
    assert.ok(modules.length >= 25 && folders.length >= 6);
    assert.deepEqual(
      [...modules, ...folders].filter((name) => !doc.includes(`\`${name}\``)),
      [],
      'not named (in backquotes) in docs/ARCHITECTURE.md',
    );
  });
});
