module.exports = {
  displayName: 'agent-server',
  preset: '../../jest.preset.js',
};
