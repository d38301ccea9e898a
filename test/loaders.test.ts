/**
 * Test runners and TypeScript loaders, as a user's project meets them: the
 * fixture project in `test/project` runs its own vitest config against both
 * worker pools (tasks in their own module; the mistakes vitest hides from the
 * parent fail with messages that say why), and under tsx or `node --import tsx`
 * the workers inherit the loader, so a task module with an enum runs.
 */
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { runCommand } from "./fixtures/commands.ts"

const project = fileURLToPath(new URL("./project/", import.meta.url))
const bin = (path: string) => fileURLToPath(new URL(`../node_modules/${path}`, import.meta.url))

/** Runs `node ...args` in the fixture project, killed if it has not exited within `deadlineMs`. */
const node = async (
  args: ReadonlyArray<string>,
  deadlineMs: number
): Promise<{ code: number | null; output: string }> => {
  // Without this run's own vitest variables, and without colours, as a user's terminal would run it.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("VITEST")))
  const run = await runCommand(process.execPath, args, {
    cwd: project,
    env: { ...env, NO_COLOR: "1", FORCE_COLOR: "0" },
    deadlineMs
  })
  return { code: run.code, output: run.stdout + run.stderr }
}

describe("a user's project", () => {
  it("runs both worker pools from its own vitest config, and explains the mistakes", async () => {
    const run = await node([bin("vitest/vitest.mjs"), "run", "--reporter=dot"], 120_000)
    expect(run.code, run.output).toBe(0)
    expect(run.output).toMatch(/Tests\s+8 passed \(8\)/)
  }, 150_000)

  it("under tsx, workers inherit the loader: a task module with an enum runs on both pools", async () => {
    const run = await node([bin("tsx/dist/cli.mjs"), "main.ts"], 60_000)
    expect(run.code, run.output).toBe(0)
    expect(run.output).toContain("InterpreterPoolExecutor: 2, ProcessPoolExecutor: 2")
  }, 90_000)

  it("under node --import tsx, workers inherit the loader too", async () => {
    const run = await node(["--import", "tsx", "main.ts"], 60_000)
    expect(run.code, run.output).toBe(0)
    expect(run.output).toContain("InterpreterPoolExecutor: 2, ProcessPoolExecutor: 2")
  }, 90_000)
})
