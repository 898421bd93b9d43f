/** `npm run test:reliability`: long real-fault scenarios, kept out of `npm test`. */
import base from './jest.config.js';

export default { ...base, testMatch: ['<rootDir>/test/reliability/**/*.spec.ts'], testPathIgnorePatterns: ['/node_modules/'], testTimeout: 300000 };
