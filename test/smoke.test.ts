import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { Executor, Future, ThreadPoolExecutor } from "../src/index.ts"

describe("smoke", () => {
  it.live("submit and result", () =>
    Effect.gen(function* () {
      const f = yield* Executor.submit((a: number, b: number) => a + b, 1, 2)
      expect(yield* Future.result(f, { timeout: "1 second" })).toBe(3)
    }).pipe(Effect.provide(ThreadPoolExecutor.layer({ maxWorkers: 2 })))
  )
})
