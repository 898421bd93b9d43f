// Canonical JSON is part of the wire protocol (what is signed, how values are stored): it lives
// in the core; this re-export keeps the security layer's imports stable.
export * from '../core/canonical-json.js';
