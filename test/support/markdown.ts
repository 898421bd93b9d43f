/**
 * Just enough Markdown for the docs tests: links, heading anchors as GitHub renders them, and
 * fenced code blocks with the HTML comment that may precede them. Code (fenced or inline) is
 * never read for links.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

export interface MarkdownLink {
  /** 1-based line of the link. */
  line: number;
  target: string;
}

export interface CodeBlock {
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  code: string;
  /** Body of an HTML comment `<!-- ts-prelude ... -->` right above the fence (blank lines allowed between). */
  prelude?: string;
}

interface Parsed {
  /** Lines outside fenced code, with inline code blanked out (for links); fenced lines are empty strings. */
  prose: string[];
  /** Lines outside fenced code as written (for headings); fenced lines are empty strings. */
  text: string[];
  blocks: CodeBlock[];
}

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([\w-]*)/;

function parse(source: string): Parsed {
  const lines = source.split('\n');
  const prose: string[] = [];
  const text: string[] = [];
  const blocks: CodeBlock[] = [];
  const skip = () => {
    prose.push('');
    text.push('');
  };
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]);
    if (!open) {
      prose.push(lines[i].replace(/(`+)(?:(?!\1)[\s\S])*?\1/g, (m) => ' '.repeat(m.length)));
      text.push(lines[i]);
      continue;
    }
    const start = i;
    const body: string[] = [];
    skip();
    for (i++; i < lines.length && !lines[i].trimStart().startsWith(open[1]); i++) {
      body.push(lines[i]);
      skip();
    }
    skip();
    blocks.push({ line: start + 1, lang: open[2].toLowerCase(), code: body.join('\n'), prelude: preludeAbove(lines, start) });
  }
  return { prose, text, blocks };
}

/** The `<!-- ts-prelude ... -->` comment ending right above line `fence` (0-based), if any. */
function preludeAbove(lines: string[], fence: number): string | undefined {
  let end = fence - 1;
  while (end >= 0 && lines[end].trim() === '') end--;
  if (end < 0 || !lines[end].trim().endsWith('-->')) return undefined;
  let begin = end;
  while (begin >= 0 && !lines[begin].includes('<!--')) begin--;
  if (begin < 0) return undefined;
  const comment = lines.slice(begin, end + 1).join('\n');
  const match = /<!--\s*ts-prelude\b([\s\S]*?)-->/.exec(comment);
  return match ? match[1].trim() : undefined;
}

/** Inline links and images `[text](target "title")`, reference definitions `[x]: target`, and `href`/`src` attributes. */
export function linksOf(text: string): MarkdownLink[] {
  const links: MarkdownLink[] = [];
  parse(text).prose.forEach((line, index) => {
    const push = (target: string) => links.push({ line: index + 1, target: target.replace(/^<|>$/g, '') });
    for (const m of line.matchAll(/\]\(\s*(<[^>]*>|[^\s)]+)(?:\s+"[^"]*")?\s*\)/g)) push(m[1]);
    for (const m of line.matchAll(/^\s{0,3}\[[^\]]+\]:\s+(\S+)/g)) push(m[1]);
    for (const m of line.matchAll(/\b(?:href|src)="([^"]+)"/g)) push(m[1]);
  });
  return links;
}

/** GitHub's anchor for a heading: rendered text, lower-cased, punctuation dropped, spaces to hyphens (github-slugger). */
export function slug(heading: string): string {
  const rendered = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // links and images: their text
    .replace(/<[^>]+>/g, '') // inline HTML
    .replace(/[*`]/g, ''); // emphasis and code markers
  return rendered
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** Every anchor a file offers: its headings' slugs (repeats numbered -1, -2… as GitHub does), and explicit `id`/`name` attributes. */
export function anchorsOf(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of parse(text).text) {
    const heading = /^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      const base = slug(heading[1]);
      const count = seen.get(base) ?? 0;
      seen.set(base, count + 1);
      anchors.add(count === 0 ? base : `${base}-${count}`);
    }
    for (const m of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(m[1]);
  }
  return anchors;
}

export function codeBlocksOf(text: string): CodeBlock[] {
  return parse(text).blocks;
}

/** A link that leaves the repository's files: a URL with a scheme, or a protocol-relative one. */
export function isExternal(target: string): boolean {
  return /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//');
}

export interface BrokenLink {
  file: string;
  line: number;
  target: string;
  reason: string;
}

/** Checks every relative link of `file` (absolute path): the file or folder exists under `root`, and the anchor exists in a Markdown target. */
export function brokenLinks(file: string, root: string): BrokenLink[] {
  const text = readFileSync(file, 'utf8');
  const broken: BrokenLink[] = [];
  for (const { line, target } of linksOf(text)) {
    if (isExternal(target)) continue;
    const [pathPart, anchor] = target.split('#', 2) as [string, string | undefined];
    const path = pathPart ? resolve(dirname(file), decodeURIComponent(pathPart)) : file;
    const report = (reason: string) => broken.push({ file: relative(root, file), line, target, reason });
    if (relative(root, path).startsWith('..')) {
      report('points outside the repository');
      continue;
    }
    if (!existsSync(path)) {
      report('no such file');
      continue;
    }
    if (anchor === undefined || anchor === '') continue;
    if (statSync(path).isDirectory() || !path.endsWith('.md')) {
      report('an anchor into a file that is not Markdown');
      continue;
    }
    if (!anchorsOf(readFileSync(path, 'utf8')).has(decodeURIComponent(anchor))) report(`no heading with anchor #${anchor}`);
  }
  return broken;
}

/** `file` and every Markdown file it links, transitively, as absolute paths; and every other file they link. */
export function linkedFiles(file: string, root: string): { markdown: string[]; others: string[] } {
  const markdown = new Set<string>();
  const others = new Set<string>();
  const visit = (current: string) => {
    if (markdown.has(current)) return;
    markdown.add(current);
    for (const { target } of linksOf(readFileSync(current, 'utf8'))) {
      if (isExternal(target)) continue;
      const pathPart = target.split('#', 1)[0];
      if (!pathPart) continue;
      const path = resolve(dirname(current), decodeURIComponent(pathPart));
      if (!existsSync(path) || relative(root, path).startsWith('..')) continue; // brokenLinks reports these
      if (path.endsWith('.md')) visit(path);
      else others.add(path);
    }
  };
  visit(file);
  return { markdown: [...markdown], others: [...others] };
}

/** README.md and every docs/*.md file of the repository, as absolute paths. */
export function documentationFiles(root: string): string[] {
  const docs = join(root, 'docs');
  const pages = existsSync(docs) ? readdirSync(docs).filter((f) => f.endsWith('.md')).sort() : [];
  return [join(root, 'README.md'), ...pages.map((f) => join(docs, f))];
}
