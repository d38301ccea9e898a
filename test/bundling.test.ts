/**
 * Bundled programs and pools started inside workers: the example program
 * bundled with esbuild as docs/bundling.md shows runs both worker pools; the
 * usual mistake (the task module inside the program's bundle) fails at once
 * instead of making every worker start a pool of its own; and a pool started
 * in a worker is refused at import and past a few levels of nesting.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, describe, expect, it } from "@effect/vitest"
import { Effect, type Scope } from "effect"
import { type Executor, Future, InterpreterPoolExecutor, ProcessPoolExecutor } from "../src/index.ts"
import { type Run, runCommand } from "./fixtures/commands.ts"
import { within } from "./fixtures/deadlock.ts"
import * as nesting from "./fixtures/nesting.ts"

const build = fileURLToPath(new URL("../examples/bundled/build.ts", import.meta.url))
const out = mkdtempSync(join(tmpdir(), "effect-futures-bundle-"))
afterAll(() => rmSync(out, { recursive: true, force: true }))

/** Runs `node ...args`, killed if it has not exited within `deadlineMs`. */
const node = (args: ReadonlyArray<string>, deadlineMs: number): Promise<Run> =>
  runCommand(process.execPath, args, { deadlineMs })

/** The processes still running whose command line names `path`. */
const processesUsing = (path: string): Array<number> =>
  readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(path)
      } catch {
        return false
      }
    })
    .map(Number)

describe("a program bundled with esbuild", () => {
  it("runs both worker pools with the worker entry and the task module as entry points of their own", async () => {
    const dir = join(out, "split")
    const built = await node([build, dir], 60_000)
    expect(built.code, built.stderr).toBe(0)
    const run = await node([join(dir, "main.js")], 60_000)
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toContain("InterpreterPoolExecutor: squares 1,4,9,16; sqrt(-4): NegativeInput(-4)")
    expect(run.stdout).toContain("ProcessPoolExecutor: squares 1,4,9,16; sqrt(-4): NegativeInput(-4)")
  }, 120_000)

  it("fails at once, saying why, when the task module is bundled into the program", async () => {
    const dir = join(out, "inline")
    const built = await node([build, dir, "--inline-tasks"], 60_000)
    expect(built.code, built.stderr).toBe(0)
    // The parent sees that the program's bundle exports none of its tasks, before any worker imports it.
    const run = await node([join(dir, "main.js")], 30_000)
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('main.js has no export "square" made with Task.make; it exports no Task')
    expect(run.stderr).toContain("docs/bundling.md")
    expect(processesUsing(dir)).toEqual([])
  }, 120_000)
})

const pools: ReadonlyArray<{
  readonly name: string
  readonly make: Effect.Effect<Executor.Service, unknown, Scope.Scope>
}> = [
  { name: "InterpreterPoolExecutor", make: InterpreterPoolExecutor.make({ maxWorkers: 1 }) },
  { name: "ProcessPoolExecutor", make: ProcessPoolExecutor.make({ maxWorkers: 1 }) }
]

describe("a worker pool started inside a worker", () => {
  for (const pool of pools) {
    it.live(`is refused while a worker of ${pool.name} imports the task module`, () =>
      Effect.gen(function* () {
        const executor = yield* pool.make
        const message = yield* within(
          Future.result(yield* executor.submit(nesting.poolAtImport)),
          "20 seconds",
          "the call"
        )
        expect(message).toContain("cannot start a worker pool inside a pool's worker while the worker imports")
      }).pipe(Effect.scoped)
    )

    it.live(`starts from a task running on ${pool.name}`, () =>
      Effect.gen(function* () {
        const executor = yield* pool.make
        expect(
          yield* within(
            Future.result(yield* executor.submit(nesting.incrementNested, 41)),
            "30 seconds",
            "the nested call"
          )
        ).toBe(42)
      }).pipe(Effect.scoped)
    )
  }

  it.live("is refused three pools deep, so nesting never spawns without end", () =>
    Effect.gen(function* () {
      const executor = yield* InterpreterPoolExecutor.make({ maxWorkers: 1 })
      const outcome = yield* within(
        Future.result(yield* executor.submit(nesting.nest, 10)),
        "60 seconds",
        "the nested calls"
      )
      expect(outcome).toContain("nested 3 pools deep")
    }).pipe(Effect.scoped)
  )
})

describe("workerEntry", () => {
  for (const pool of [
    { name: "InterpreterPoolExecutor", make: InterpreterPoolExecutor.make },
    { name: "ProcessPoolExecutor", make: ProcessPoolExecutor.make }
  ] as const) {
    it.live(`names the file the workers of ${pool.name} run`, () =>
      Effect.gen(function* () {
        const executor = yield* pool.make({
          maxWorkers: 1,
          workerEntry: new URL("../src/internal/worker.js", import.meta.url)
        })
        expect(
          yield* within(Future.result(yield* executor.submit(nesting.increment, 1)), "20 seconds", "the call")
        ).toBe(2)
      }).pipe(Effect.scoped)
    )

    it.effect(`that does not exist fails ${pool.name}'s make, pointing to the bundling guide`, () =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(pool.make({ workerEntry: "file:///nowhere/worker.js" }))
        expect(error.message).toBe(
          `${pool.name}: the worker entry file:///nowhere/worker.js does not exist. In a bundled program, bundle ` +
            `"effect-futures/worker" as worker.js beside the bundle, or pass workerEntry (see docs/bundling.md)`
        )
        const notAUrl = yield* Effect.flip(pool.make({ workerEntry: "./worker.js" }))
        expect(notAUrl.message).toContain("workerEntry must be a file: URL")
      }).pipe(Effect.scoped)
    )
  }
})
