/**
 * The API reference stays honest: `docs/api` matches the doc comments in
 * `src/`, and every public export has a doc comment with an `@example`
 * (`npm run docs -- --check`, run as its own process).
 */
import { spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

const script = fileURLToPath(new URL("../scripts/docs.ts", import.meta.url))

describe("API reference", () => {
  it("docs/api is up to date and every export is documented with an example", () => {
    const result = spawnSync(process.execPath, [script, "--check"], { encoding: "utf8", timeout: 30_000 })
    // Status and stderr together, so a failure shows the problems the script listed.
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: "" })
    expect(result.stdout).toContain("docs/api is up to date")
  })
})
