module.exports = {
  displayName: 'examples-plugins-linear-regression',
  preset: '../../../jest.preset.js',
  // A plugin keeps its spec next to index.ts rather than under src/.
  testMatch: ['<rootDir>/**/*.spec.ts'],
};
