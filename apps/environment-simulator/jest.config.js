module.exports = {
  displayName: 'environment-simulator',
  preset: '../../jest.preset.js',
};
