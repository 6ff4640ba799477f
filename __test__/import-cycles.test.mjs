// No module imports itself back, in any of the three layers: the core's modules
// (crate/src/*.rs), the binding's (src/*.rs) and the JS under lib/ (plus index.js and
// index.mjs). The cycles once found here (actor <-> port <-> outbox, supervisor <-> tree, the
// binding's lib <-> messages and entry <-> messages) were broken by moving the shared piece to
// its owner; this keeps them broken.
//
// The edges are read from the source text: in Rust every `crate::name` path outside comments and
// test modules (test code may reach anywhere), including grouped `use crate::{a, b::c}`;
// in JS every relative `require(…)`, `import … from` and `import(…)`, lazy ones inside functions
// too (a lazy require is still a dependency, only a hidden one).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from './harness.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// Edges allowed to close a cycle, each with its reason. pooled.rs holds the pooled-actor part of
// `impl Runtime` (the runtime split by concern), and the runtime's outbox drain counts a pool
// worker's acknowledgements with pooled::Acks: one type in two files, not two concerns.
const ALLOWED = new Set(['crate/src: runtime -> pooled']);

/** The cycles of a graph `{ node: [node, …] }`, each as `a -> b -> … -> a` (one per back edge). */
function cycles(graph) {
  const found = [];
  const state = new Map(); // 1: on the current path, 2: done
  const pathNow = [];
  const visit = (n) => {
    state.set(n, 1);
    pathNow.push(n);
    for (const d of graph[n] ?? []) {
      if (state.get(d) === 1) found.push([...pathNow.slice(pathNow.indexOf(d)), d].join(' -> '));
      else if (!state.has(d)) visit(d);
    }
    pathNow.pop();
    state.set(n, 2);
  };
  for (const n of Object.keys(graph).sort()) if (!state.has(n)) visit(n);
  return found;
}

/** Rust source without comments and without its test modules (`#[cfg(test)]`, `#[cfg(all(test, …))]`). */
function rustCode(src) {
  let s = src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  for (;;) {
    const at = s.search(/#\[cfg\((?:test|all\(test\b[^()]*\))\)\]\s*mod\s+\w+\s*\{/);
    if (at < 0) return s;
    let i = s.indexOf('{', at);
    let depth = 0;
    do {
      if (s[i] === '{') depth++;
      else if (s[i] === '}') depth--;
      i++;
    } while (depth > 0 && i < s.length);
    s = s.slice(0, at) + s.slice(i);
  }
}

/** `{ module: [module it names, …] }` for the .rs files of `dir` (the crate root left out). */
function rustGraph(dir, skip) {
  const names = fs
    .readdirSync(path.join(ROOT, dir))
    .filter((f) => f.endsWith('.rs'))
    .map((f) => f.slice(0, -3));
  const graph = {};
  for (const name of names) {
    if (name === 'lib' || skip.includes(name)) continue;
    const code = rustCode(fs.readFileSync(path.join(ROOT, dir, `${name}.rs`), 'utf8'));
    const deps = new Set([...code.matchAll(/\bcrate::(\w+)/g)].map((m) => m[1]));
    for (const [, group] of code.matchAll(/\bcrate::\{([^{}]*(?:\{[^{}]*\}[^{}]*)*)\}/g)) {
      for (const item of group.replace(/\{[^{}]*\}/g, '').split(',')) deps.add(item.trim().split('::')[0]);
    }
    graph[name] = [...deps].filter((d) => d !== name && names.includes(d) && d !== 'lib').sort();
  }
  return graph;
}

/** `{ file: [file it loads, …] }` for the JS under lib/ and the package's entry files. */
function jsGraph() {
  const files = ['index.js', 'index.mjs'];
  const walk = (dir) => {
    for (const e of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      const rel = `${dir}/${e.name}`;
      if (e.isDirectory()) walk(rel);
      else if (/\.[cm]?js$/.test(e.name)) files.push(rel);
    }
  };
  walk('lib');
  const graph = {};
  for (const file of files) {
    const src = fs
      .readFileSync(path.join(ROOT, file), 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/^\s*\/\/.*$/gm, '');
    const deps = new Set();
    for (const [, spec] of src.matchAll(/(?:\brequire\(|\bimport\(|\bfrom\s+|^import\s+)\s*['"](\.{1,2}\/[^'"]+)['"]/gm)) {
      let target = path.join(path.dirname(file), spec);
      if (!fs.existsSync(path.join(ROOT, target)) && fs.existsSync(path.join(ROOT, `${target}.js`))) target += '.js';
      else if (fs.existsSync(path.join(ROOT, target)) && fs.statSync(path.join(ROOT, target)).isDirectory()) target = path.join(target, 'index.js');
      deps.add(target.split(path.sep).join('/'));
    }
    graph[file] = [...deps].sort();
  }
  return graph;
}

const unexpected = (layer, graph) =>
  cycles(graph).filter((c) => {
    const hops = c.split(' -> ');
    return !hops.slice(1).some((to, i) => ALLOWED.has(`${layer}: ${hops[i]} -> ${to}`));
  });

describe('import cycles', () => {
  test('the cycle finder finds a cycle and its allowance covers only the edge it names', () => {
    assert.deepEqual(cycles({ a: ['b'], b: ['c'], c: ['a'], d: ['a'] }), ['a -> b -> c -> a']);
    assert.deepEqual(cycles({ a: ['b'], b: [], c: ['a', 'b'] }), []);
    assert.deepEqual(unexpected('crate/src', { runtime: ['pooled'], pooled: ['runtime'] }), []);
    assert.equal(unexpected('src', { runtime: ['pooled'], pooled: ['runtime'] }).length, 1);
    const code = rustCode('use crate::{a::X, b};\n#[cfg(test)]\nmod tests { use crate::c; fn f() { {} } }\nfn g() { crate::d::h() } // crate::e\n#[cfg(all(test, loom))]\nmod m { use crate::f; }');
    assert.deepEqual([...code.matchAll(/crate::(\w+)/g)].map((m) => m[1]), ['d']);
  });

  test('the core (crate/src) has none', () => {
    const graph = rustGraph('crate/src', []);
    assert.ok(graph.runtime.includes('actor') && graph.supervisor.includes('tree'), 'edges not read');
    assert.ok(!graph.tree.includes('supervisor') && !graph.outbox.includes('port'), JSON.stringify(graph));
    assert.deepEqual(unexpected('crate/src', graph), []);
  });

  test('the binding (src) has none', () => {
    const graph = rustGraph('src', []);
    assert.ok(graph.messages.includes('entry') && graph.entry.includes('host_mail'), 'edges not read');
    assert.deepEqual(unexpected('src', graph), []);
  });

  test('the JS (lib/, index.js, index.mjs) has none', () => {
    const graph = jsGraph();
    assert.ok(Object.keys(graph).length >= 40, `found only ${Object.keys(graph).length} files`);
    assert.ok(graph['lib/tasks/pool.js'].includes('lib/tasks/tags.js'), 'edges not read');
    assert.deepEqual(unexpected('lib', graph), []);
  });
});
