import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Two test files at once: most of a worker-pool test is spent waiting on worker start-up and
    // timers, so two files share two cores well (the suite takes about half the time).
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000
  }
})
