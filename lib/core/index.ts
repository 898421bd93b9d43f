export * from './types.js';
export * from './base-url.js';
export * from './hybrid-clock.js';
export * from './membership-view.js';
export * from './peer-selection.js';
export * from './cluster-engine.js';
