module.exports = {
  displayName: 'tensor',
  preset: '../../jest.preset.js',
};
