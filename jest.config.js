const { getJestProjectsAsync } = require('@nx/jest');

// testTimeout is a global option: per-project presets cannot set it.
module.exports = async () => ({ projects: await getJestProjectsAsync(), testTimeout: 60000 });
