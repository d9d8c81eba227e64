import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { anchorsOf, brokenLinks, documentationFiles, githubSlug } from '../support/markdown-links.js';

const root = resolve(import.meta.dirname, '..', '..');

describe('documentation links', () => {
  it('every relative link and anchor in README.md, docs/ and bench/README.md resolves', () => {
    const files = documentationFiles(root);
    expect(files.length).toBeGreaterThan(10);
    const broken = brokenLinks(files, root).map((b) => `${b.file}:${b.line} ${b.target}: ${b.reason}`);
    expect(broken).toEqual([]);
  });
});

describe('the link checker', () => {
  const dir = mkdtempSync(join(tmpdir(), 'links-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('makes GitHub slugs', () => {
    expect(githubSlug('A node that drains (SIGTERM, `app.close()`)')).toBe('a-node-that-drains-sigterm-appclose');
    expect(githubSlug('`scheduler.workflows`')).toBe('schedulerworkflows');
    expect(githubSlug("This repository's tests")).toBe('this-repositorys-tests');
    expect(githubSlug('`@reboot`')).toBe('reboot');
  });

  it('numbers repeated headings and ignores headings in code blocks', () => {
    const anchors = anchorsOf('# Title\n## Same\n## Same\n```bash\n# not a heading\n```\n<a id="x"></a>\n');
    expect([...anchors].sort()).toEqual(['same', 'same-1', 'title', 'x']);
  });

  it('reports a missing file, a missing anchor and an anchor into a folder, and nothing in code', () => {
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'target.md'), '# Target\n## Real section\n');
    writeFileSync(
      join(dir, 'page.md'),
      [
        '# Page',
        '[ok](sub/target.md#real-section) [ok](#page) [web](https://example.com/x.md)',
        '[gone](sub/missing.md)',
        '[bad anchor](sub/target.md#nope)',
        '[folder anchor](sub/#x)',
        '`[in code](nowhere.md)`',
        '```',
        '[in a fence](nowhere.md)',
        '```',
      ].join('\n'),
    );
    const broken = brokenLinks([join(dir, 'page.md')], dir);
    expect(broken.map((b) => [b.line, b.target])).toEqual([
      [3, 'sub/missing.md'],
      [4, 'sub/target.md#nope'],
      [5, 'sub/#x'],
    ]);
  });
});
