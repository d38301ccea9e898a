/**
 * `prestart` on both worker pools: the workers start when the layer builds, each running the
 * initializer before any call, and a worker that cannot start fails the layer with
 * `BrokenExecutor` rather than the first call.
 */
import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, type Layer } from "effect"
import { Executor, InterpreterPoolExecutor, ProcessPoolExecutor } from "../src/index.ts"
import * as tasks from "./fixtures/tasks.ts"
import { result, tempFile, timeout } from "./suites/workerPool.ts"

const pools = [
  ["InterpreterPoolExecutor", InterpreterPoolExecutor.layer],
  ["ProcessPoolExecutor", ProcessPoolExecutor.layer]
] as const

/** Builds the pool's layer and runs `body` on it, under one deadline. */
const built = <A, E, LE>(layer: Layer.Layer<Executor.Executor, LE>, body: Effect.Effect<A, E, Executor.Executor>) =>
  body.pipe(Effect.provide(layer), Effect.timeout(timeout))

for (const [name, layer] of pools) {
  describe(`${name} prestart`, () => {
    it.live("starts every worker as the layer builds, each running the initializer before any call", () =>
      Effect.gen(function* () {
        const { file, lines } = yield* tempFile("prestart-")
        const pool = layer({ maxWorkers: 2, prestart: true, initializer: tasks.initialize, initargs: ["hi", file] })
        const seen = yield* built(
          pool,
          Effect.gen(function* () {
            const atBuild = lines()
            // The workers started serve calls as any would.
            const state = yield* result(yield* Executor.submit(tasks.initState, 0))
            expect(state.greeting).toBe("hi")
            return atBuild
          })
        )
        expect(seen.length).toBe(2)
        expect(new Set(seen).size).toBe(2)
        expect(lines().length).toBe(2)
      })
    )

    it.live("with a number starts that many workers", () =>
      Effect.gen(function* () {
        const { file, lines } = yield* tempFile("prestart-")
        const pool = layer({ maxWorkers: 2, prestart: 1, initializer: tasks.initialize, initargs: ["hi", file] })
        expect(yield* built(pool, Effect.sync(lines))).toHaveLength(1)
      })
    )

    it.live("fails the layer with BrokenExecutor when the initializer fails, before any call", () =>
      Effect.gen(function* () {
        const pool = layer({ maxWorkers: 2, prestart: true, initializer: tasks.failingInit, initargs: ["no greeting"] })
        const error = yield* Effect.flip(built(pool, Effect.void))
        expect(error).toMatchObject({ _tag: "BrokenExecutor" })
        expect((error as Error).message).toContain("no greeting")
        // The typed error a program catches as the layer builds.
        const caught = yield* built(pool, Effect.succeed("built")).pipe(
          Effect.catchTag("BrokenExecutor", () => Effect.succeed("caught"))
        )
        expect(caught).toBe("caught")
      })
    )

    it.live("rejects a bad prestart with IllegalArgumentError naming it", () =>
      Effect.gen(function* () {
        for (const bad of [3, -1, 1.5, "yes"]) {
          const error = yield* Effect.flip(
            built(layer({ maxWorkers: 2, prestart: bad as unknown as number }), Effect.void)
          )
          expect(Cause.isIllegalArgumentError(error)).toBe(true)
          expect((error as Error).message).toContain("prestart")
        }
      })
    )
  })
}

describe("ProcessPoolExecutor prestart", () => {
  it.live("fails the layer with BrokenExecutor when the children cannot start (a bad execArgv)", () =>
    Effect.gen(function* () {
      const pool = ProcessPoolExecutor.layer({
        maxWorkers: 2,
        prestart: true,
        execArgv: ["--no-such-node-option-for-effect-futures"]
      })
      const error = yield* Effect.flip(built(pool, Effect.void))
      expect(error).toMatchObject({ _tag: "BrokenExecutor", kind: "ProcessPool" })
    })
  )

  it.live("with onWorkerDeath replace still fails the layer when a child cannot start", () =>
    Effect.gen(function* () {
      const pool = ProcessPoolExecutor.layer({
        maxWorkers: 1,
        prestart: true,
        onWorkerDeath: "replace",
        execArgv: ["--no-such-node-option-for-effect-futures"]
      })
      expect(yield* Effect.flip(built(pool, Effect.void))).toMatchObject({ _tag: "BrokenExecutor" })
    })
  )
})
