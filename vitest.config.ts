import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['./src/polyfill.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // End-to-end files start several processes each; run files one at a time
    // so they do not compete for the 2 cores (and timing-sensitive checks stay honest).
    fileParallelism: false,
  },
})
