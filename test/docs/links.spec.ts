/**
 * Every relative link and anchor in README.md and docs/*.md resolves to a file or a heading of
 * this repository, checked against the files as they are (so a page added later satisfies the
 * links to it once it is there).
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { anchorsOf, brokenLinks, documentationFiles, linksOf, slug } from '../support/markdown.js';

const root = resolve(import.meta.dirname, '../..');

describe('links in README.md and docs/', () => {
  const files = documentationFiles(root);

  it('covers the README and the docs folder', () => {
    expect(files.map((f) => relative(root, f))).toEqual(expect.arrayContaining(['README.md', 'docs/protocol.md', 'docs/measurements.md']));
  });

  it.each(files.map((f) => [relative(root, f), f]))('%s: every relative link and anchor resolves', (_name, file) => {
    expect(brokenLinks(file, root)).toEqual([]);
  });
});

describe('the link checker', () => {
  it('makes the anchors GitHub makes', () => {
    expect(slug('Load: `npm run bench:load`')).toBe('load-npm-run-benchload');
    expect(slug('What the package page left open, and what we chose')).toBe('what-the-package-page-left-open-and-what-we-chose');
    expect(slug('Use it in a plain Express app')).toBe('use-it-in-a-plain-express-app');
    expect(slug('Key/value state and sync: `npm run sim:state`')).toBe('keyvalue-state-and-sync-npm-run-simstate');
    expect([...anchorsOf('# A\n## Notes\n```\n# not a heading\n```\n## Notes\n<a id="custom"></a>')]).toEqual(['a', 'notes', 'notes-1', 'custom']);
  });

  it('reads links outside code only', () => {
    const text = 'see [a](a.md#x) and `[b](b.md)`\n```\n[c](c.md)\n```\n[d]: d.md\n<img src="e.png">';
    expect(linksOf(text).map((l) => l.target)).toEqual(['a.md#x', 'd.md', 'e.png']);
  });

  it('reports a missing file, a missing anchor and a link out of the repository', () => {
    const dir = mkdtempSync(join(tmpdir(), 'shazbot-links-'));
    try {
      mkdirSync(join(dir, 'docs'));
      writeFileSync(join(dir, 'docs', 'page.md'), '# Page\n## Section one\n');
      writeFileSync(
        join(dir, 'README.md'),
        '[ok](docs/page.md#section-one) [self](#readme) [web](https://example.com/x)\n# Readme\n[gone](docs/gone.md) [bad anchor](docs/page.md#section-two) [out](../elsewhere.md)\n',
      );
      expect(brokenLinks(join(dir, 'README.md'), dir)).toEqual([
        { file: 'README.md', line: 3, target: 'docs/gone.md', reason: 'no such file' },
        { file: 'README.md', line: 3, target: 'docs/page.md#section-two', reason: 'no heading with anchor #section-two' },
        { file: 'README.md', line: 3, target: '../elsewhere.md', reason: 'points outside the repository' },
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
