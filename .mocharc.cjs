// Mocha runs the TypeScript sources directly through tsx (no build step needed for tests); the kyso-source export
// condition makes every @kyso/* import resolve to the package's src/index.ts instead of its dist/.
module.exports = {
  'node-option': ['import=tsx', 'conditions=kyso-source'],
  extension: ['ts'],
  timeout: 30000,
  reporter: require.resolve('./scripts/summary-reporter.cjs'),
  exit: true,
};
