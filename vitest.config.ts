// Test runner settings: `npm test` runs every project test offline; the corpus suite runs separately.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/{unit,handlers,infra,e2e,browser}/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    env: {
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  },
});
