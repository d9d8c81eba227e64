/** The markdown of metrics-cost.mjs's figures, for its own output and run.mjs's report. */

const LABELS = {
  none: 'no SDK (default)',
  off: 'metrics off (the same code: noise floor)',
  producer: 'SDK, histograms by the producer',
  'producer-lean': 'SDK, the producer, `storeOperations: false`',
  sdk: "SDK's own histograms",
};

/** The markdown of one store × concurrency. */
export function costTable(c) {
  const f = (x) => x.toFixed(3);
  const interval = (r) => (r ? `**${f(r.median)}** (${f(r.interval[0])}–${f(r.interval[1])}; ${r.range[0].toFixed(2)}–${r.range[1].toFixed(2)})` : '');
  const lines = [
    `${c.store} c${c.concurrency}, ${c.jobs.toLocaleString('en-US')} jobs a drain, ${c.processes} processes × ${c.rounds} rounds (the reference: its own processes, paired with their own no-SDK drains). ` +
      'Ratios: median of the pairs (95 % interval of the median; range).',
    '',
    '| variant | pairs | main thread µs/job | ÷ no SDK | ÷ no SDK and off | whole process µs/job | whole process ÷ no SDK |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const v of c.variants) {
    lines.push(
      `| ${LABELS[v.variant] ?? v.variant} | ${v.variant === 'none' ? '' : v.pairs} | ${v.mainUsPerJob} | ${interval(v.vsNone)} | ${interval(v.vsBoth)} | ${v.processUsPerJob} | ${interval(v.processVsNone)} |`,
    );
  }
  return lines.join('\n');
}
