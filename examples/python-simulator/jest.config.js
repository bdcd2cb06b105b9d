module.exports = {
  displayName: 'examples-python-simulator',
  preset: '../../jest.preset.js',
  // An example keeps its spec next to its sources rather than under src/.
  testMatch: ['<rootDir>/**/*.spec.ts'],
};
