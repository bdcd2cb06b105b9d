module.exports = {
  displayName: 'plugins',
  preset: '../../jest.preset.js',
};
