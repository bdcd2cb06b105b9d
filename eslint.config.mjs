import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

export default [
  { ignores: ['**/node_modules/**', '**/dist/**', 'libs/proto/src/generated/**', 'runs/**', 'tmp/**', '**/*.js', '**/*.mjs'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-require-imports': 'off',
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            // Domain libraries hold the maths and the roles: never transport or generated code.
            { sourceTag: 'type:domain', onlyDependOnLibsWithTags: ['type:domain'] },
            // Generated contracts depend on nothing of ours.
            { sourceTag: 'type:proto', onlyDependOnLibsWithTags: [] },
            // Telemetry is infrastructure: it knows nothing of the domain or the contracts.
            { sourceTag: 'type:infra', onlyDependOnLibsWithTags: [] },
            // The edge converts between contracts and the domain.
            { sourceTag: 'type:edge', onlyDependOnLibsWithTags: ['type:proto', 'type:domain', 'type:infra', 'type:edge'] },
            // Services wire domain factories to gRPC handlers.
            { sourceTag: 'type:service', onlyDependOnLibsWithTags: ['type:proto', 'type:domain', 'type:infra', 'type:edge'] },
            // Workspace tools (generators, benchmarks, reproduction scripts) use the public libraries.
            { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:domain', 'type:infra', 'type:proto', 'type:edge', 'type:service'] },
            // The CLI composes services.
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:proto', 'type:domain', 'type:infra', 'type:edge', 'type:service'] },
          ],
        },
      ],
    },
  },
];
