import type { Reporter, TestModule } from 'vitest/node';

/**
 * Prints the closing lines CI reads: one `FAILED <file> > <test>: <first error line>`
 * per failed test, and one per file that failed with no test failed in it
 * (it did not load, or a hook failed and its tests were skipped), so a log
 * whose middle is cut still names them; then `N passed, N failed`, which
 * vitest's own summary does not provide.
 */
export default class PlainCountReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let skipped = 0;
    const failures: string[] = [];
    for (const mod of testModules) {
      const before = failures.length;
      for (const test of mod.children.allTests()) {
        const result = test.result();
        if (result.state === 'passed') passed++;
        else if (result.state === 'failed') failures.push(`${mod.moduleId} > ${test.fullName}: ${firstLine(result.errors?.[0]?.message)}`);
        else skipped++;
      }
      // A file that failed with no test failed in it: it did not load, or a hook failed (its tests count as skipped).
      if (mod.state() === 'failed' && failures.length === before) failures.push(`${mod.moduleId}: ${firstLine(mod.errors()[0]?.message)}`);
    }
    const cwd = process.cwd() + '/';
    const lines = failures.map((f) => `FAILED ${f.startsWith(cwd) ? f.slice(cwd.length) : f}`);
    process.stdout.write(`\n${lines.map((l) => l + '\n').join('')}${passed} passed, ${failures.length} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
    // What this line counts as failed fails the run, whatever vitest made of it.
    if (failures.length > 0) process.exitCode = 1;
  }
}

function firstLine(message: string | undefined): string {
  return (message ?? 'no error message').split('\n')[0].slice(0, 300);
}
