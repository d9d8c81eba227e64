/** The markdown of metrics-cost.mjs's figures, for its own output and run.mjs's report. */

const LABELS = {
  none: 'no SDK (default)',
  off: 'metrics off (the same code: noise floor)',
  producer: 'SDK, histograms by the producer',
  sdk: "SDK's own histograms",
};

/** The markdown of one store × concurrency. */
export function costTable(c) {
  const lines = [
    `${c.store} c${c.concurrency}, ${c.jobs.toLocaleString('en-US')} jobs a drain, ${c.processes} processes × ${c.rounds} rounds (the reference: its own processes, paired with their own no-SDK drains):`,
    '',
    '| variant | pairs | main thread µs/job | ÷ no SDK: median of pairs | 95 % interval of the median | range | whole process µs/job | ÷ no SDK (range) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const v of c.variants) {
    const ratio = v.ratio === null ? '' : `**${v.ratio.toFixed(3)}**`;
    const ci = v.ratioInterval ? `${v.ratioInterval[0].toFixed(3)}–${v.ratioInterval[1].toFixed(3)}` : '';
    const range = v.ratioRange ? `${v.ratioRange[0].toFixed(2)}–${v.ratioRange[1].toFixed(2)}` : '';
    const proc = v.processRatio === null ? '' : `${v.processRatio.toFixed(3)} (${v.processRatioRange[0].toFixed(2)}–${v.processRatioRange[1].toFixed(2)})`;
    lines.push(
      `| ${LABELS[v.variant] ?? v.variant} | ${v.variant === 'none' ? '' : v.pairs} | ${v.mainUsPerJob} | ${ratio} | ${ci} | ${range} | ${v.processUsPerJob} | ${proc} |`,
    );
  }
  return lines.join('\n');
}
