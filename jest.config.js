// Tests are TypeScript under tests/, compiled by `npm run build` into dist/tests and run as ES modules.
export default {
  testMatch: ['<rootDir>/dist/tests/**/*.test.js'],
  testEnvironment: 'node',
  testTimeout: 180000,
  maxWorkers: 1,
  verbose: false,
};
