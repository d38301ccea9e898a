import { defineConfig } from "vitest/config"

// A user's project of its own: its tests are `*.spec.ts`, so the library's suite does not run them.
export default defineConfig({
  test: {
    include: ["*.spec.ts"],
    testTimeout: 60_000
  }
})
