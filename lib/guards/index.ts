export * from './shared-secret.guard.js';
export * from './control-secret.guard.js';
export { bearerMatches } from './bearer-secret.js';
