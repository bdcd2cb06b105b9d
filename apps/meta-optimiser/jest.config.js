module.exports = {
  displayName: 'meta-optimiser',
  preset: '../../jest.preset.js',
};
