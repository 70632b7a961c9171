// Lint rules: typescript-eslint recommended, strict about `any` in domain code, and imports that point one way.
import tseslint from 'typescript-eslint';

/**
 * Layering (issue #23): the domain (lambdas/dicom) imports neither HTTP nor storage, the store does not import HTTP.
 * test/unit/layering.test.ts checks the same rules for every kind of import (import() included) and finds cycles.
 */
const ABOVE_THE_STORE = ['http', 'ingest', 'dicomweb', 'handlers', 'web'];
const layerRule = (layer, forbidden, why) => ({
  files: [`lambdas/${layer}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          {
            regex: `^(\\.\\./)+(${forbidden.join('|')})(/|\\.js$)`,
            message: `lambdas/${layer} must not import this: ${why}.`,
          },
        ],
      },
    ],
  },
});

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', '.data/', 'scratch/', 'dist/'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  layerRule(
    'dicom',
    ['store', ...ABOVE_THE_STORE, 'commons', 'routes'],
    'the domain is pure; its errors, types and vocabulary are its own, mapped to HTTP at the edge',
  ),
  layerRule(
    'store',
    [...ABOVE_THE_STORE, 'commons', 'routes'],
    'the store answers in states and its own errors; HTTP is decided at the edge',
  ),
  {
    files: ['test/**/*.ts', 'scripts/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
