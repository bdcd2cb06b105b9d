module.exports = {
  displayName: 'evaluator',
  preset: '../../jest.preset.js',
};
