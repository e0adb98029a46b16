// Mocha runs the TypeScript sources directly through tsx (no build step needed for tests).
module.exports = {
  'node-option': ['import=tsx', 'conditions=development'],
  extension: ['ts'],
  timeout: 30000,
  reporter: require.resolve('./scripts/summary-reporter.cjs'),
  exit: true,
};
