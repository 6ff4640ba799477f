// The README is executable: every ```js, ```mjs and ```ts block of README.md runs as its own
// script, under the runtime running this suite (Node or Bun), and must exit on its own with
// code 0 — so a block that throws, rejects, or leaves something running (no `shutdown()`) fails.
//
// How a block becomes a script:
// - It is written into a fresh folder inside the repository, so `import … from 'warden'` resolves
//   to this checkout through the package's own `exports` (self-reference), and other packages
//   (zod…) resolve from its node_modules.
// - A line `// file: name.mjs` starts another file of the same block (a module actor next to the
//   code that spawns it); the last file is the one run, the others sit beside it.
// - TypeScript blocks are compiled with the TypeScript compiler (types removed, nothing checked
//   here; `npm run typecheck` checks types) and run as ES modules.
// - A block that cannot run on its own is marked by an HTML comment on the line before its fence
//   (blank lines between are allowed): `<!-- not-a-test: why -->`. The reason is required, and
//   is shown as the skip reason. Use it sparingly.
// Sections other people add to the README are picked up without touching this file.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { describe, test, slowTest, runtime, runChild } from './harness.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LANGS = new Set(['js', 'mjs', 'ts']);
const BLOCK_TIMEOUT_MS = 60000;

/**
 * The runnable blocks of a Markdown text: `{ line, lang, heading, skip, files: [{ name, code }] }`
 * (`line`: 1-based line of the opening fence; `skip`: the not-a-test reason, if marked).
 */
export function extractBlocks(markdown) {
  const lines = markdown.split('\n');
  const blocks = [];
  let heading = '(top)';
  for (let i = 0; i < lines.length; i++) {
    const h = /^#{1,6}\s+(.*)$/.exec(lines[i]);
    if (h) heading = h[1].trim();
    const open = /^(\s*)(`{3,}|~{3,})\s*([\w+-]*)/.exec(lines[i]);
    if (!open) continue;
    const fence = open[2];
    const lang = open[3].toLowerCase();
    const start = i;
    const body = [];
    for (i++; i < lines.length && !lines[i].trimStart().startsWith(fence); i++) body.push(lines[i]);
    if (!LANGS.has(lang)) continue;
    let j = start - 1;
    while (j >= 0 && lines[j].trim() === '') j--;
    const marker = j >= 0 ? /^<!--\s*not-a-test\b:?(.*?)-->\s*$/.exec(lines[j].trim()) : null;
    const skip = marker ? marker[1].trim() || null : undefined;
    if (marker && skip === null) throw new Error(`README line ${j + 1}: <!-- not-a-test --> needs a reason: <!-- not-a-test: why -->`);
    blocks.push({ line: start + 1, lang, heading, skip, files: splitFiles(body, lang) });
  }
  return blocks;
}

/** Splits a block at `// file: name` lines; code before the first marker is `main`. */
function splitFiles(body, lang) {
  const ext = lang === 'ts' ? 'ts' : 'mjs';
  const files = [];
  let current = { name: `main.${ext}`, code: [] };
  for (const l of body) {
    const m = /^\s*\/\/\s*file:\s*(\S+)\s*$/.exec(l);
    if (m) {
      if (current.code.some((c) => c.trim() !== '')) files.push(current);
      current = { name: m[1], code: [] };
      continue;
    }
    current.code.push(l);
  }
  files.push(current);
  return files.map((f) => ({ name: f.name, code: f.code.join('\n') + '\n' }));
}

let ts = null;
/** JavaScript of a TypeScript file (types removed). */
function stripTypes(code, name) {
  ts ??= createRequire(import.meta.url)('typescript');
  const out = ts.transpileModule(code, {
    fileName: name,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false },
  });
  return out.outputText;
}

/** Writes a block's files into a fresh folder inside the repository; returns the file to run. */
function writeBlock(block) {
  const dir = fs.mkdtempSync(path.join(ROOT, '__test__', '.readme-'));
  let main = null;
  for (const f of block.files) {
    const isTs = f.name.endsWith('.ts') || f.name.endsWith('.mts');
    const name = isTs ? f.name.replace(/\.m?ts$/, '.mjs') : f.name;
    const code = isTs ? stripTypes(f.code, f.name) : f.code;
    fs.writeFileSync(path.join(dir, name), code);
    main = path.join(dir, name);
  }
  return { dir, main };
}

describe('the README extractor', () => {
  test('finds js/mjs/ts blocks, splits `// file:` sections, honours not-a-test markers with a reason', () => {
    const md = [
      '# A',
      '```sh',
      'npm test',
      '```',
      '```js',
      'console.log(1);',
      '```',
      '## B',
      '<!-- not-a-test: needs a NATS server -->',
      '',
      '```ts',
      'const x: number = 1;',
      '```',
      '```mjs',
      '// file: worker.mjs',
      'export default () => 1;',
      '// file: main.mjs',
      'import w from "./worker.mjs";',
      '```',
    ].join('\n');
    const blocks = extractBlocks(md);
    assert.deepEqual(
      blocks.map((b) => [b.line, b.lang, b.heading, b.skip, b.files.map((f) => f.name)]),
      [
        [5, 'js', 'A', undefined, ['main.mjs']],
        [11, 'ts', 'B', 'needs a NATS server', ['main.ts']],
        [14, 'mjs', 'B', undefined, ['worker.mjs', 'main.mjs']],
      ],
    );
    assert.throws(() => extractBlocks('<!-- not-a-test -->\n```js\n1\n```'), /needs a reason/);
    assert.match(stripTypes('const x: number = 1; export type T = string;', 'x.ts'), /const x = 1;/);
  });
});

const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const blocks = extractBlocks(readme);

describe(`README.md code blocks run as written (${runtime})`, () => {
  test('the README has runnable blocks', () => {
    assert.ok(blocks.filter((b) => b.skip === undefined).length >= 5, 'expected the README examples to be found');
  });

  for (const block of blocks) {
    const name = `line ${block.line} (${block.heading}, ${block.lang})`;
    if (block.skip !== undefined) {
      if (runtime === 'bun') test.skip(`${name}: not a test: ${block.skip}`, () => {});
      else test(`${name}: not a test: ${block.skip}`, { skip: block.skip }, () => {});
      continue;
    }
    slowTest(name, BLOCK_TIMEOUT_MS + 10000, async () => {
      const { dir, main } = writeBlock(block);
      try {
        const r = await runChild(main, { cwd: path.dirname(main), timeoutMs: BLOCK_TIMEOUT_MS, label: 'the block to exit on its own (a missing shutdown()?)' });
        assert.deepEqual(
          { code: r.code, signal: r.signal },
          { code: 0, signal: null },
          `README block at line ${block.line} failed\nstdout: ${r.stdout}\nstderr: ${r.stderr}`,
        );
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
