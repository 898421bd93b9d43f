/**
 * Used by deploy/Dockerfile, inside the image only: this repository keeps every peer of the
 * library as a devDependency (a library's way), so `npm ci --omit=dev` would install nothing.
 * This moves what the sample app needs at run time (the peers, the Express platform, prom-client)
 * into `dependencies`, so that `npm prune --omit=dev` then keeps exactly those, at the versions
 * `npm ci` installed from the lock file. Your own app declares its dependencies and skips this.
 */
import { readFileSync, writeFileSync } from 'node:fs';

const RUNTIME_EXTRAS = ['@nestjs/platform-express', 'prom-client'];
const manifest = JSON.parse(readFileSync('package.json', 'utf8'));
const runtime = [...new Set([...Object.keys(manifest.peerDependencies ?? {}), ...RUNTIME_EXTRAS])];
manifest.dependencies = {};
for (const name of runtime) {
  const range = manifest.devDependencies?.[name] ?? manifest.peerDependencies?.[name];
  if (!range) throw new Error(`runtime-manifest: ${name} is neither a devDependency nor a peer`);
  manifest.dependencies[name] = range;
  delete manifest.devDependencies?.[name];
}
writeFileSync('package.json', `${JSON.stringify(manifest, null, 2)}\n`);
console.log(`runtime dependencies: ${runtime.join(', ')}`);
