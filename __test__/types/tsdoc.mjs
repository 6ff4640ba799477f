// Checks that index.d.ts documents its API: every exported declaration and every member of an
// exported interface, type literal or class has a TSDoc comment, every option (a member of an
// interface whose name ends in Config or Options, or of an object inside one) says its
// `@defaultValue`, the main entry points carry an `@example`, and every example compiles
// (strict). Prints what is wrong and exits 1, so `npm test` fails on an undocumented addition.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import fs from 'node:fs';
import path from 'node:path';

const require = createRequire(import.meta.url);
const ts = require('typescript');
const file = fileURLToPath(new URL('../../index.d.ts', import.meta.url));
const text = fs.readFileSync(file, 'utf8');
const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);

// Options whose default is stated by the surrounding text rather than a tag: required fields
// and members that are not settings.
const NO_DEFAULT = new Set(['DiagnosticsPage.limit', 'WriteOptions.data', 'CommitOptions.msg']);
// Entry points that must show an example (declaration or `Interface.member` names).
const EXAMPLES = [
  'createSupervisor',
  'matchAll',
  'ActorSpawner.spawn',
  'Supervisor.spawnMany',
  'ActorRef.call',
  'Context.call',
  'Supervisor.task',
  'Supervisor.map',
  'Context.write',
  'Context.alloc',
  'Context.read',
  'Supervisor.read',
];

const problems = [];
const seenExamples = new Set();

/** The TSDoc comments directly attached to `node` (`/** … *\/` only). */
function docs(node) {
  return (ts.getJSDocCommentsAndTags(node) ?? []).filter((d) => d.kind === ts.SyntaxKind.JSDoc);
}
function docText(node) {
  return docs(node).map((d) => d.getText()).join('\n');
}
function where(node) {
  const { line } = source.getLineAndCharacterOfPosition(node.getStart());
  return `index.d.ts:${line + 1}`;
}
function memberName(m) {
  return m.name.getText();
}

/** Whether a member's type is an object written inline or a named options/config interface (which carries its own defaults). */
function isNestedOptions(t) {
  if (!t) return false;
  if (ts.isTypeLiteralNode(t)) return true;
  return ts.isTypeReferenceNode(t) && /(Config|Options)$/.test(t.typeName.getText());
}

/** Members of an interface, class or type literal: each documented; options with their default. */
function checkMembers(owner, members, isOptions) {
  for (const m of members) {
    if (!m.name) continue; // index and call signatures: documented by their owner
    const name = `${owner}.${memberName(m)}`;
    const text = docText(m);
    if (!text) problems.push(`${where(m)} ${name}: no TSDoc comment`);
    if (text.includes('@example')) seenExamples.add(name);
    const optional = m.questionToken !== undefined;
    if (isOptions && optional && ts.isPropertySignature(m) && !text.includes('@defaultValue')) {
      if (!isNestedOptions(m.type) && !NO_DEFAULT.has(name)) problems.push(`${where(m)} ${name}: option without @defaultValue`);
    }
    if (m.type) visitTypes(name, m.type, isOptions && ts.isTypeLiteralNode(m.type));
    if (m.parameters) for (const p of m.parameters) if (p.type) visitTypes(`${name}(${p.name.getText()})`, p.type, /options/i.test(p.name.getText()));
  }
}

// Type literals that only carry a type-level trick, not API members.
const TRICKS = new Set(['MatchHandler']);

/**
 * Every object type written inside `node` (unions, intersections, parameters, return types),
 * except patterns: the `extends` side of a conditional type, and an object intersected with a
 * named type to narrow it for one overload (`MapOptions & { settle: true }`).
 */
function visitTypes(owner, node, isOptions) {
  if (ts.isConditionalTypeNode(node)) {
    for (const t of [node.trueType, node.falseType]) visitTypes(owner, t, isOptions);
    return;
  }
  if (ts.isIntersectionTypeNode(node) && node.types.some((t) => ts.isTypeReferenceNode(t))) {
    return;
  }
  if (ts.isTypeLiteralNode(node)) {
    if (!TRICKS.has(owner)) checkMembers(owner, node.members, isOptions);
    return;
  }
  ts.forEachChild(node, (child) => visitTypes(owner, child, isOptions && !ts.isFunctionTypeNode(node)));
}

function isExported(node) {
  return (ts.getCombinedModifierFlags(node) & ts.ModifierFlags.Export) !== 0;
}

for (const node of source.statements) {
  const name = node.name?.getText();
  if (!name) continue;
  const text = docText(node);
  // non-exported helpers are documented too (they show up in hovers through the exports)
  if (!text) problems.push(`${where(node)} ${name}: no TSDoc comment${isExported(node) ? '' : ' (helper)'}`);
  if (text.includes('@example')) seenExamples.add(name);
  const isOptions = /(Config|Options)$/.test(name);
  if (ts.isInterfaceDeclaration(node) || ts.isClassDeclaration(node)) checkMembers(name, node.members, isOptions);
  else if (ts.isTypeAliasDeclaration(node)) visitTypes(name, node.type, isOptions);
  else if (ts.isFunctionDeclaration(node)) {
    for (const p of node.parameters) if (p.type) visitTypes(`${name}(${p.name.getText()})`, p.type, false);
    if (node.type) visitTypes(`${name}()`, node.type, false);
  }
}
for (const e of EXAMPLES) if (!seenExamples.has(e)) problems.push(`${e}: no @example`);

// ---- the examples compile ---------------------------------------------------------------
// Each ```ts block of an `@example` becomes the body of a function in a virtual module next to
// the type tests, with the free names the examples use declared up front; modules they import
// by relative path are virtual stubs. Compiled with the type tests' options (strict).
const dir = path.dirname(fileURLToPath(import.meta.url));
const blocks = [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1].replace(/^\s*\* ?/gm, ''));
const STUBS = {
  'hasher.mts': 'import type { Self } from "warden";\nexport default function (self: Self, text: string): string { return text; }\n',
  'hash.mts': 'export default function (text: string): string { return text; }\n',
};
const preamble = [
  "import { createSupervisor, matchAll, println, type Supervisor, type Context, type ActorRef, type Behaviour } from 'warden';",
  'declare const sup: Supervisor;',
  'declare const ctx: Context;',
  'declare const ref: ActorRef;',
  'declare const writer: ActorRef;',
  'declare const msg: unknown;',
  'declare const rows: number[];',
  'declare const total: number;',
];
let examples = 0;
const bodies = blocks
  .filter((b) => !b.includes('declare module')) // the augmentation example is checked in resources.mts
  .map((b, i) => {
    examples++;
    const code = b
      .split('\n')
      .filter((l) => !l.startsWith('import '))
      .join('\n')
      .replace(/import\('\.\/(\w+)\.js'\)/g, "import('./$1.mjs')")
      .replace(/new URL\('\.\/(\w+)\.js'/g, "new URL('./$1.mjs'");
    return `export async function example${i}() {\n${code}\n}`;
  });
const virtual = new Map([[path.join(dir, '__doc_examples__.mts'), [...preamble, ...bodies].join('\n')]]);
for (const [name, code] of Object.entries(STUBS)) virtual.set(path.join(dir, name), code);
const configFile = ts.readConfigFile(path.join(dir, 'tsconfig.json'), ts.sys.readFile);
const parsed = ts.parseJsonConfigFileContent(configFile.config, ts.sys, dir);
const host = ts.createCompilerHost(parsed.options);
const { fileExists, readFile } = host;
host.fileExists = (f) => virtual.has(f) || fileExists.call(host, f);
host.readFile = (f) => virtual.get(f) ?? readFile.call(host, f);
const getSourceFile = host.getSourceFile;
host.getSourceFile = (f, lang, ...rest) =>
  virtual.has(f) ? ts.createSourceFile(f, virtual.get(f), lang) : getSourceFile.call(host, f, lang, ...rest);
const program = ts.createProgram([path.join(dir, '__doc_examples__.mts'), file], parsed.options, host);
for (const d of ts.getPreEmitDiagnostics(program)) {
  const msgText = ts.flattenDiagnosticMessageText(d.messageText, '\n');
  if (d.file) {
    const { line } = d.file.getLineAndCharacterOfPosition(d.start);
    problems.push(`example ${path.basename(d.file.fileName)}:${line + 1}: ${msgText}`);
  } else problems.push(`example: ${msgText}`);
}
if (examples === 0) problems.push('no examples found to compile');

if (problems.length > 0) {
  console.error(`index.d.ts: ${problems.length} documentation problems:\n${problems.join('\n')}`);
  process.exit(1);
}
console.log(`index.d.ts: every declaration and member documented; ${EXAMPLES.length} entry points with examples; ${examples} examples compile`);
