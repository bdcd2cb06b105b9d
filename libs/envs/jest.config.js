module.exports = {
  displayName: 'envs',
  preset: '../../jest.preset.js',
};
