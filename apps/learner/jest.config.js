module.exports = {
  displayName: 'learner',
  preset: '../../jest.preset.js',
};
