/**
 * What a worker loads to start: for plain tasks from a module that imports `effect-futures/Task`,
 * no Effect and no Schema, and no executor; what an Effect task needs loads with its first call,
 * and runs as ever. Real child processes, each recording the modules it loads.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as EffectModule from "effect/Effect"
import { Future, ProcessPoolExecutor } from "../src/index.ts"
import { effectTypeId } from "../src/internal/worker/tasks.ts"
import { loadedModules } from "./fixtures/leanTasks.ts"
import { add, failTyped, failUntyped, PlainError, PoolError, sleepEffect } from "./fixtures/tasks.ts"

const deadline = "20 seconds"

const recordLoads = new URL("./fixtures/recordLoads.ts", import.meta.url).href

/** The modules of `effect` and of this library's executors among `urls`. */
const heavy = (urls: ReadonlyArray<string>): ReadonlyArray<string> =>
  urls.filter((url) => /\/node_modules\/effect\/|\/src\/(index|Executor|Errors|Future|\w+PoolExecutor)\.ts$/.test(url))

describe("worker start-up", () => {
  it("the worker reads an Effect by Effect's own brand", () => {
    expect(effectTypeId).toBe(EffectModule.TypeId)
  })

  it.live(
    "a worker running plain tasks from a module importing Task alone loads no Effect and no executor; Effect tasks then run as ever",
    () =>
      Effect.gen(function* () {
        const executor = yield* ProcessPoolExecutor.make({ maxWorkers: 1, execArgv: ["--import", recordLoads] })
        const run = <A, E>(future: Future.Future<A, E>) => Future.result(future).pipe(Effect.timeout(deadline))
        const loaded = yield* run(yield* executor.submit(loadedModules))
        expect(loaded.some((url) => url.endsWith("/src/internal/worker/main.ts"))).toBe(true)
        expect(loaded.some((url) => url.endsWith("/test/fixtures/leanTasks.ts"))).toBe(true)
        expect(heavy(loaded)).toEqual([])
        // The same worker: its first Effect task loads what it needs.
        expect(yield* run(yield* executor.submit(sleepEffect, 1, "unused"))).toBe("slept")
        expect(yield* run(yield* executor.submit(add, 2, 3))).toBe(5)
        const typed = yield* Effect.flip(run(yield* executor.submit(failTyped, "no", 7)))
        expect(typed).toBeInstanceOf(PoolError)
        expect(typed).toMatchObject({ message: "no", code: 7 })
        const untyped = yield* Effect.flip(run(yield* executor.submit(failUntyped, "no", 8)))
        expect(untyped).toMatchObject({ _tag: "PlainError", message: "no", code: 8 })
        expect(untyped).not.toBeInstanceOf(PlainError)
        expect(heavy(yield* run(yield* executor.submit(loadedModules))).length).toBeGreaterThan(0)
      }).pipe(Effect.scoped)
  )
})
