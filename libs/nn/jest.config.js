module.exports = {
  displayName: 'nn',
  preset: '../../jest.preset.js',
};
