/**
 * The backlog scenario's part of `run.mjs`: its plan steps (one per backlog
 * size, without and with a held snapshot) and its report, the per-job cost by
 * backlog size with each size's ratio to the smallest (the flatness figure).
 */

export const BACKLOG_METRICS = ['pgCpuUsPerJob', 'cpuUsPerJob', 'jobsPerSec', 'walBytesPerJob', 'drainPgCpuUsPerJob', 'seconds'];
/** Jobs of the measured window; every size must hold it plus the reserves (scenario.mjs checks). */
export const BACKLOG_WINDOW = 8000;

const label = (n) => (n >= 1e6 && n % 1e6 === 0 ? `${n / 1e6}M` : n >= 1000 && n % 1000 === 0 ? `${n / 1000}k` : String(n));

/** Plan steps: for each size, not held then held. */
export function backlogSteps(sizes) {
  return sizes.flatMap((n) =>
    [false, true].map((held) => ({
      id: `backlog-${label(n)}${held ? '-held' : ''}`,
      group: 'backlog',
      scenario: 'backlog',
      backlog: n,
      held,
      title: `Backlog of ${n.toLocaleString('en-US')} queued jobs${held ? ', snapshot held' : ''}: the last ${BACKLOG_WINDOW.toLocaleString('en-US')} before 1,000 remain`,
      flags: ['--backlog', n, '--jobs', BACKLOG_WINDOW, ...(held ? ['--held'] : [])],
      metrics: BACKLOG_METRICS,
    })),
  );
}

/** `--backlog-sizes 10000,100000` (or BENCH_BACKLOG_SIZES), sorted; the smallest is the base of the ratios. */
export function parseSizes(text) {
  const sizes = text
    .split(',')
    .map((s) => Number(s.trim()))
    .sort((a, b) => a - b);
  if (sizes.some((n) => !Number.isInteger(n) || n < BACKLOG_WINDOW + 2000))
    throw new Error(`backlog sizes must be integers ≥ ${BACKLOG_WINDOW + 2000}: ${text}`);
  return sizes;
}

/** Per adapter and size: the medians and their ratios to the smallest size. */
export function flatness(summary, steps, adapters) {
  const out = {};
  const sizes = [...new Set(steps.map((s) => s.backlog))];
  for (const adapter of adapters) {
    const rows = [];
    for (const held of [false, true]) {
      const base = {};
      for (const n of sizes) {
        const step = steps.find((s) => s.backlog === n && s.held === held);
        const e = step && summary[step.id]?.[adapter];
        if (!e || e.ok === 0) continue;
        const row = { backlog: n, held, runs: e.ok };
        for (const k of BACKLOG_METRICS) {
          const v = e[k]?.median ?? null;
          base[k] ??= v;
          row[k] = v;
          row[`${k}Ratio`] = v !== null && base[k] ? v / base[k] : null;
        }
        rows.push(row);
      }
    }
    if (rows.length) out[adapter] = rows;
  }
  return out;
}

/** Markdown lines of the backlog section. */
export function backlogMarkdown(flat, info, fmt, rounds) {
  const lines = ['## Backlog: per-job cost by queued jobs (flatness)', ''];
  lines.push(
    `Each run enqueues N jobs, vacuums them and drains them at concurrency 10; the window is the last ${BACKLOG_WINDOW.toLocaleString('en-US')} jobs before ` +
      '1,000 remain (what a job costs once a backlog of N has been drained down). *Held*: another session holds a REPEATABLE READ snapshot from the ' +
      'start of the drain to the end of the window. "× base" is the ratio to the smallest backlog, same library and snapshot (issue #14: within ±20 %). ' +
      'PostgreSQL CPU counts this database’s backends and the server’s own processes (schedstat); *whole drain* averages it over every job drained up to ' +
      `the window's end. ${rounds} round(s), medians.`,
  );
  lines.push('');
  lines.push('| library | queued | snapshot | PostgreSQL CPU µs/job | × base | … whole drain | × base | Node CPU µs/job | × base | jobs/s | WAL B/job |');
  lines.push('|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  const x = (r) => (r === null || r === undefined ? '—' : `${r.toFixed(2)}×`);
  for (const [adapter, rows] of Object.entries(flat)) {
    for (const r of [...rows].sort((a, b) => a.backlog - b.backlog || a.held - b.held)) {
      lines.push(
        `| ${info[adapter].label} | ${label(r.backlog)} | ${r.held ? 'held' : '—'} | ${fmt(r.pgCpuUsPerJob, 1)} | ${x(r.pgCpuUsPerJobRatio)} | ` +
          `${fmt(r.drainPgCpuUsPerJob, 1)} | ${x(r.drainPgCpuUsPerJobRatio)} | ${fmt(r.cpuUsPerJob, 1)} | ${x(r.cpuUsPerJobRatio)} | ` +
          `${fmt(r.jobsPerSec, 0)} | ${fmt(r.walBytesPerJob, 0)} |`,
      );
    }
  }
  lines.push('');
  return lines;
}
