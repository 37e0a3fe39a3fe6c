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
  // Jest's default, one worker fewer than the cores, runs the whole suite in one process on a
  // 2-core machine; the cluster's tests spend most of their time waiting on Redis and node
  // processes (their directory: 266 s of wall time for 88 s of CPU in one process), so a second
  // worker runs other files meanwhile.
  maxWorkers: '100%',
};
