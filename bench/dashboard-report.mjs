/**
 * The dashboard scenario's part of run.mjs's report: each route's latency
 * against the 200-ms budget, the statements sent while idle, and the
 * overview's reads under many clients.
 */

/** Markdown lines of the dashboard section, from dashboard.mjs's result. */
export function dashboardMarkdown(d, fmt) {
  const lines = [`## Dashboard API with ${fmt(d.jobs ?? 0, 0)} jobs (PostgreSQL)`, ''];
  if (!d.ok) return [...lines, `Failed: ${d.error ?? 'no result'}`, ''];
  lines.push(
    `\`bench/dashboard.mjs\`: a Nest app (SchedulerModule on PostgreSQL + SchedulerDashboardModule, default options) over ${Object.entries(d.states)
      .map(([k, v]) => `${fmt(v, 0)} ${k}`)
      .join(', ')}. Each route: ${d.routes.overview.sequential.n} requests one at a time, then as many from ` +
      `${d.clients ?? 10} clients at once; budget p95 < 200 ms (the worse of the two).`,
  );
  lines.push('');
  lines.push('| route | p50 ms | p95 ms | p99 ms | 10 clients p50 | p95 | p99 | statements | within budget |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const [label, r] of Object.entries(d.routes)) {
    const s = r.sequential;
    const c = r.concurrent;
    lines.push(
      `| ${label} | ${fmt(s.p50, 1)} | ${fmt(s.p95, 1)} | ${fmt(s.p99, 1)} | ${fmt(c.p50, 1)} | ${fmt(c.p95, 1)} | ${fmt(c.p99, 1)} | ` +
        `${d.statementsPerRequest[label]} | ${r.withinBudget ? 'yes' : '**no**'} |`,
    );
  }
  lines.push('');
  const { noClient, sse } = d.idle;
  lines.push(
    `Idle, ${noClient.seconds} s: the scheduler sends ${noClient.total} statements with no client and ${sse.total} with ${sse.streams} SSE streams open; ` +
      `the dashboard's own: **${d.idle.dashboardStatements}**. ${d.burst.clients} clients on \`api/overview\` for ${d.burst.seconds} s ` +
      `(${fmt(d.burst.requests, 0)} requests, ${d.burst.periods} periods of statsCacheMs): ${d.burst.queueCountReads} queue-count reads, ` +
      `${d.burst.dashboardStatements.total} statements in all.`,
  );
  lines.push('');
  return lines;
}
