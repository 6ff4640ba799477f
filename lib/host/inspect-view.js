'use strict';
// What `console.log` and `util.inspect` show for warden's host objects: a short, readable line
// for an ActorRef, an ActorGroup and a Supervisor (instead of their private fields, which
// reach into the whole supervisor), and a drawn tree for the output of `sup.inspect()`. Node and
// Bun both honour the `nodejs.util.inspect.custom` symbol.

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

const quote = (s) => `'${String(s).replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** `Name { k: v, … }` with strings quoted and undefined fields left out. */
function line(name, fields) {
  const parts = [];
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    parts.push(`${k}: ${typeof v === 'string' ? quote(v) : String(v)}`);
  }
  return `${name} { ${parts.join(', ')} }`;
}

/** The view of an ActorRef: id, name, kind, incarnation and state (`dead` once dead for good). */
function refView(ref, diagnostics) {
  const d = diagnostics.isOk ? diagnostics.value : null;
  return line('ActorRef', {
    id: ref.id,
    name: ref.name ?? undefined,
    kind: d?.kind,
    incarnation: d ? d.incarnation : ref.incarnation,
    state: d ? d.state : 'dead',
  });
}

function groupView(group, strategy) {
  return line('ActorGroup', { id: group.id, strategy });
}

function supervisorView(sup, counts, state) {
  return line('Supervisor', { id: sup.id, state, activeActors: counts?.activeActors, restarts: counts?.restarts });
}

/** One tree node's own line. */
function nodeLine(n) {
  if (n.type !== 'actor') return `${n.id} ${n.strategy ?? ''}`.trimEnd();
  const extra = [n.kind, `incarnation ${n.incarnation}`];
  if (n.worker !== undefined) extra.push(`worker ${n.worker}`);
  if (n.mailboxDepth > 0) extra.push(`${n.mailboxDepth} queued`);
  if (n.lastError) extra.push(`last error: ${n.lastError}`);
  const name = n.name ? ` ${JSON.stringify(n.name)}` : '';
  return `${n.id}${name} ${n.state} (${extra.filter(Boolean).join(', ')})`;
}

/** The supervision tree drawn with box-drawing branches, children in start order. */
function drawTree(root) {
  const out = [nodeLine(root)];
  const walk = (node, prefix) => {
    const children = node.children ?? [];
    children.forEach((c, i) => {
      const last = i === children.length - 1;
      out.push(`${prefix}${last ? '└─ ' : '├─ '}${nodeLine(c)}`);
      walk(c, `${prefix}${last ? '   ' : '│  '}`);
    });
  };
  walk(root, '');
  return out.join('\n');
}

/** Gives the tree `sup.inspect()` returns its drawn view (a non-enumerable method: the data is unchanged). */
function withTreeView(tree) {
  if (tree !== null && typeof tree === 'object') {
    Object.defineProperty(tree, INSPECT, { value: () => drawTree(tree), enumerable: false });
  }
  return tree;
}

module.exports = { INSPECT, refView, groupView, supervisorView, drawTree, withTreeView };
