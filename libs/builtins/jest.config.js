module.exports = {
  displayName: 'builtins',
  preset: '../../jest.preset.js',
};
