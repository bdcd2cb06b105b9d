module.exports = {
  displayName: 'rl',
  preset: '../../jest.preset.js',
};
