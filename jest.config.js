/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  setupFiles: ['<rootDir>/test/setup/quiet-default-logger.ts'],
  transform: {
    // Types are checked once by `npm run typecheck`; transpiling file by file keeps the suite fast
    // (ts-jest does so because tsconfig.json sets `isolatedModules`).
    '^.+\\.ts$': 'ts-jest',
  },
  testTimeout: 60000,
};
