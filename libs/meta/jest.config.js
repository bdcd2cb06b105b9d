module.exports = {
  displayName: 'meta',
  preset: '../../jest.preset.js',
};
