/**
 * The public API is curated (issue 13): every name `lib/index.ts` exports carries its own
 * documentation comment (what it is, shapes, units, defaults, errors), read with the
 * TypeScript compiler the way an editor shows it.
 */
import ts from 'typescript';
import { fileURLToPath } from 'node:url';

describe('public API', () => {
  it('documents every export of lib/index.ts', () => {
    const entry = fileURLToPath(new URL('../../lib/index.ts', import.meta.url));
    const program = ts.createProgram([entry], { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, strict: true, experimentalDecorators: true, emitDecoratorMetadata: true });
    const checker = program.getTypeChecker();
    const source = program.getSourceFile(entry)!;
    const exports = checker.getExportsOfModule(checker.getSymbolAtLocation(source)!);
    expect(exports.length).toBeGreaterThan(60);
    const undocumented = exports
      .filter((symbol) => {
        const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
        return ts.displayPartsToString(target.getDocumentationComment(checker)).trim().length === 0;
      })
      .map((symbol) => symbol.getName())
      .sort();
    expect(undocumented).toEqual([]);
  });
});
