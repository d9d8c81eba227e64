// `npm run build`, after tsc: the dashboard's UI (HTML, JS, CSS; not TypeScript, so tsc leaves it) goes beside
// the compiled module that serves it, dist/lib/dashboard/ui, where it looks for it (import.meta.url).
import { cpSync, rmSync } from 'node:fs';

const from = new URL('../lib/dashboard/ui/', import.meta.url);
const to = new URL('../dist/lib/dashboard/ui/', import.meta.url);
rmSync(to, { recursive: true, force: true });
cpSync(from, to, { recursive: true });
