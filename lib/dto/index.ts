export * from './gossip-server.dto.js';
export * from './server-list.dto.js';
export * from './gossip-message.dto.js';
export * from './control-message.dto.js';
export * from './is-base-url.decorator.js';
export { validateBody } from './validate-body.js';
export * from './probe-message.dto.js';
export * from './state-delta.dto.js';
export * from './sync-message.dto.js';
