module.exports = {
  displayName: 'task-sampler',
  preset: '../../jest.preset.js',
};
