module.exports = {
  displayName: 'generators',
  preset: '../../jest.preset.js',
  // Generators keep their specs next to the code, not under src/; templates end in .tmpl.
  testMatch: ['<rootDir>/**/*.spec.ts'],
};
