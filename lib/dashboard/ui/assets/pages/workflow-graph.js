// @ts-check
import { t } from '../i18n.js';

const SVG = 'http://www.w3.org/2000/svg';
const NODE_W = 170;
const NODE_H = 40;
const GAP_X = 30;
const GAP_Y = 50;

/** @param {string} tag @param {Record<string, string | number>} [attrs] */
function svg(tag, attrs = {}) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  return el;
}

/**
 * A run's graph as inline SVG, top-down: each step on the layer after its deepest dependency (the nodes come in
 * topological order), each node classed by its state and linked to its job; `afterAny` edges dashed.
 * @param {{ id: string; state: string; jobId: string | null }[]} nodes @param {{ from: string; to: string; kind: string }[]} edges
 */
export function workflowGraph(nodes, edges) {
  /** @type {Map<string, number>} */
  const layer = new Map();
  for (const node of nodes) {
    const deps = edges.filter((edge) => edge.to === node.id).map((edge) => layer.get(edge.from) ?? 0);
    layer.set(node.id, deps.length ? Math.max(...deps) + 1 : 0);
  }
  /** @type {Map<number, string[]>} */
  const rows = new Map();
  for (const node of nodes) {
    const row = layer.get(node.id) ?? 0;
    rows.set(row, [...(rows.get(row) ?? []), node.id]);
  }
  const widest = Math.max(1, ...[...rows.values()].map((row) => row.length));
  const width = widest * (NODE_W + GAP_X) + GAP_X;
  const height = rows.size * (NODE_H + GAP_Y) + GAP_Y / 2;
  /** @type {Map<string, { x: number; y: number }>} */
  const at = new Map();
  for (const [row, ids] of rows) {
    const offset = (width - ids.length * (NODE_W + GAP_X) + GAP_X) / 2;
    ids.forEach((id, i) => at.set(id, { x: offset + i * (NODE_W + GAP_X), y: GAP_Y / 2 + row * (NODE_H + GAP_Y) }));
  }
  const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'dag', role: 'group', 'aria-label': t('workflows.graph'), width, height });
  const defs = svg('defs');
  const marker = svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 8, markerHeight: 8, orient: 'auto-start-reverse' });
  marker.append(svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'arrow' }));
  defs.append(marker);
  root.append(defs);
  for (const edge of edges) {
    const from = at.get(edge.from);
    const to = at.get(edge.to);
    if (!from || !to) continue;
    const x1 = from.x + NODE_W / 2;
    const y1 = from.y + NODE_H;
    const x2 = to.x + NODE_W / 2;
    const y2 = to.y;
    const mid = (y1 + y2) / 2;
    root.append(svg('path', { d: `M ${x1} ${y1} C ${x1} ${mid}, ${x2} ${mid}, ${x2} ${y2}`, class: `edge edge-${edge.kind}`, 'marker-end': 'url(#arrow)' }));
  }
  for (const node of nodes) {
    const pos = at.get(node.id);
    if (!pos) continue;
    const group = svg('g', { class: `node state-${node.state}`, 'data-step': node.id, 'data-state': node.state });
    const title = svg('title');
    title.textContent = `${node.id}: ${node.state}`;
    const label = svg('text', { x: pos.x + NODE_W / 2, y: pos.y + NODE_H / 2 + 5, 'text-anchor': 'middle' });
    label.textContent = node.id.length > 22 ? `${node.id.slice(0, 21)}…` : node.id;
    group.append(title, svg('rect', { x: pos.x, y: pos.y, width: NODE_W, height: NODE_H, rx: 8 }), label);
    if (node.jobId) {
      const link = svg('a', { href: `#/jobs/${encodeURIComponent(node.jobId)}` });
      link.append(group);
      root.append(link);
    } else root.append(group);
  }
  return root;
}
