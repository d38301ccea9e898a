/**
 * A future cancelled while queued, in a pool that then breaks, must still be
 * notified (CANCELLED_AND_NOTIFIED): otherwise `wait` and `asCompleted`, which
 * count only notified cancellations, would wait on it forever. CPython's
 * `_terminate_broken` and `_initializer_failed` reach the same end through
 * the work item's `set_running_or_notify_cancel`.
 */
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Scope } from "effect"
import { Future, ProcessPoolExecutor, ThreadPoolExecutor } from "../src/index.ts"
import * as faults from "./fixtures/faults.ts"

describe("a future cancelled in the queue of a pool that then breaks", () => {
  it.live("process pool, a worker dies: the cancelled future is notified and wait sees it done", () =>
    Effect.gen(function* () {
      const scope = yield* Scope.make()
      const executor = yield* Scope.provide(scope)(ProcessPoolExecutor.make({ maxWorkers: 1 }))
      const crashing = yield* executor.submit(faults.exitWith, 1, 300)
      const queued = yield* executor.submit(faults.sleep, 10)
      expect(yield* Future.cancel(queued)).toBe(true)
      yield* Future.await(crashing).pipe(Effect.timeout("10 seconds"))
      yield* Scope.close(scope, Exit.void).pipe(Effect.timeout("10 seconds"))
      expect(yield* Future.state(queued)).toBe("CANCELLED_AND_NOTIFIED")
      const { notDone } = yield* Future.wait([queued], { timeout: "2 seconds" })
      expect(notDone.size).toBe(0)
    })
  )

  it.live("thread pool, the initializer fails: the cancelled future is notified", () =>
    Effect.gen(function* () {
      const gate = yield* Deferred.make<void>()
      const scope = yield* Scope.make()
      const executor = yield* Scope.provide(scope)(
        ThreadPoolExecutor.make({
          maxWorkers: 1,
          initializer: Effect.andThen(Deferred.await(gate), Effect.fail("init failed"))
        })
      )
      const first = yield* executor.submit(() => 1)
      const queued = yield* executor.submit(() => 2)
      expect(yield* Future.cancel(queued)).toBe(true)
      yield* Deferred.succeed(gate, undefined)
      yield* Future.await(first).pipe(Effect.timeout("5 seconds"))
      yield* Scope.close(scope, Exit.void).pipe(Effect.timeout("5 seconds"))
      expect(yield* Future.state(queued)).toBe("CANCELLED_AND_NOTIFIED")
    })
  )
})
