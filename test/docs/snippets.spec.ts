/**
 * Every ```ts block of README.md and docs/*.md compiles under the repository's strict settings,
 * in a fresh project that imports 'clustershazbot' as an app does: through the package's
 * exports map, to the built dist/ (`npm run build` first, as `npm test` does). A block that is
 * a fragment declares what it needs in an HTML comment right above it:
 *
 *     <!-- ts-prelude
 *     import { ClustershazbotModule } from 'clustershazbot';
 *     -->
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { codeBlocksOf, documentationFiles } from '../support/markdown.js';

const root = resolve(import.meta.dirname, '../..');

interface Snippet {
  /** Where it is: `README.md:42` (the opening fence). */
  where: string;
  file: string;
  /** Lines the prelude adds above the block's first line. */
  offset: number;
}

/** A project folder whose node_modules links every package of the repository's, plus the package itself. */
function scratchProject(): string {
  const dir = mkdtempSync(join(tmpdir(), 'shazbot-snippets-'));
  const modules = join(dir, 'node_modules');
  mkdirSync(modules);
  for (const entry of readdirSync(join(root, 'node_modules'))) {
    if (entry.startsWith('.')) continue;
    symlinkSync(join(root, 'node_modules', entry), join(modules, entry));
  }
  symlinkSync(root, join(modules, 'clustershazbot'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'snippets', private: true, type: 'module' }));
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      extends: join(root, 'tsconfig.json'),
      compilerOptions: { rootDir: '.', noEmit: true, types: ['node'], moduleDetection: 'force' },
      include: ['*.ts'],
    }),
  );
  return dir;
}

function compile(dir: string): string[] {
  try {
    execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json', '--pretty', 'false'], { cwd: dir, encoding: 'utf8', stdio: 'pipe' });
    return [];
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    return `${stdout ?? ''}${stderr ?? ''}`.split('\n').filter((l) => /error TS\d+/.test(l));
  }
}

describe('TypeScript snippets in README.md and docs/', () => {
  let dir: string;
  const snippets: Snippet[] = [];
  let errors: string[] = [];

  beforeAll(() => {
    if (!existsSync(join(root, 'dist/index.d.ts'))) throw new Error('dist/ is not built: run `npm run build` first (npm test does)');
    dir = scratchProject();
    for (const page of documentationFiles(root)) {
      const name = relative(root, page);
      for (const block of codeBlocksOf(readFileSync(page, 'utf8'))) {
        if (block.lang !== 'ts' && block.lang !== 'typescript') continue;
        const prelude = block.prelude ? `${block.prelude}\n` : '';
        const file = `${name.replace(/[^\w]+/g, '_')}_${block.line}.ts`;
        writeFileSync(join(dir, file), `${prelude}${block.code}\n`);
        snippets.push({ where: `${name}:${block.line}`, file, offset: prelude.split('\n').length - 1 });
      }
    }
    // proves the compiler ran over these files and reports what it finds
    writeFileSync(join(dir, 'canary.ts'), "const canary: number = 'not a number';\nexport { canary };\n");
    errors = compile(dir);
  }, 120_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('finds the usage snippets', () => {
    expect(snippets.filter((s) => s.where.startsWith('README.md:')).length).toBeGreaterThanOrEqual(3);
  });

  it('reports a broken snippet (the canary)', () => {
    expect(errors.filter((e) => e.startsWith('canary.ts('))).toEqual([expect.stringContaining('error TS2322')]);
  });

  it('compiles every snippet with strict settings', () => {
    // each error as README.md:<line of the error in the markdown>
    const located = errors
      .filter((e) => !e.startsWith('canary.ts('))
      .map((e) => {
        const m = /^([^(]+)\((\d+),(\d+)\): (.*)$/.exec(e);
        const snippet = m && snippets.find((s) => s.file === m[1]);
        if (!m || !snippet) return e;
        const fence = Number(snippet.where.split(':')[1]);
        const line = Number(m[2]) - snippet.offset;
        return line > 0 ? `${snippet.where.split(':')[0]}:${fence + line}: ${m[4]}` : `${snippet.where} (prelude line ${m[2]}): ${m[4]}`;
      });
    expect(located).toEqual([]);
  });
});
