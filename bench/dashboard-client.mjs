/**
 * The dashboard scenario's HTTP clients, in a worker thread so that sending
 * requests and reading answers does not run on the server's event loop.
 *
 * workerData: { mode: 'routes', routes: [{ label, url }], requests, clients, warmup, maxSeconds }
 *   → { label: { ms: [...], statuses: { 200: n } } } (each route in turn:
 *     `warmup` requests, then `requests` spread over `clients` at once, each
 *     client sending its share one after another, until `maxSeconds` have passed);
 * or { mode: 'burst', url, clients, seconds } → { requests, statuses }
 *   (`clients` each loop on `url` for `seconds`).
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/** One GET, the whole body read (not parsed); resolves to [ms, status]. */
function get(url) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    http
      .get(url, { agent }, (res) => {
        res.on('data', () => {});
        res.on('end', () => resolve([performance.now() - t0, res.statusCode]));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

async function routes({ routes, requests, clients, warmup, maxSeconds = Infinity }) {
  const out = {};
  for (const { label, url } of routes) {
    for (let i = 0; i < warmup; i++) await get(url);
    const ms = [];
    const statuses = {};
    const share = Math.ceil(requests / clients);
    // A slow route stops early rather than holding the run for minutes.
    const end = performance.now() + maxSeconds * 1000;
    await Promise.all(
      Array.from({ length: clients }, async () => {
        for (let i = 0; i < share && performance.now() < end; i++) {
          const [t, status] = await get(url);
          ms.push(t);
          statuses[status] = (statuses[status] ?? 0) + 1;
        }
      }),
    );
    out[label] = { ms, statuses };
  }
  return out;
}

async function burst({ url, clients, seconds }) {
  const end = performance.now() + seconds * 1000;
  let requests = 0;
  const statuses = {};
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < end) {
        const [, status] = await get(url);
        requests++;
        statuses[status] = (statuses[status] ?? 0) + 1;
      }
    }),
  );
  return { requests, statuses };
}

const result = workerData.mode === 'burst' ? await burst(workerData) : await routes(workerData);
agent.destroy();
parentPort.postMessage(result);
