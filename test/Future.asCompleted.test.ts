/**
 * `Future.asCompleted`: a port of CPython's
 * `Lib/test/test_concurrent_futures/test_as_completed.py` (run against a real
 * `ThreadPoolExecutor`), plus ordering, timeout and clean-up rules checked on
 * bare futures driven by hand.
 */
import { describe, expect, it } from "@effect/vitest"
import { Cause, Clock, Effect, Exit, Fiber, Latch, Stream } from "effect"
import { TestClock } from "effect/testing"
import { Executor, Future, ThreadPoolExecutor } from "../src/index.ts"
import {
  cancelledFuture,
  defectOf,
  expectRunning,
  forkNow,
  liveDeadline,
  makeStates,
  namesOf,
  notifyCancel,
  OSError,
  pendingFuture,
  runningFuture,
  settleLive,
  settleTest,
  successfulFuture,
  type TestFuture,
  testDeadline,
  waiterCount
} from "./fixtures/states.ts"

/** CPython's `ExecutorMixin.worker_count`. */
const pool = ThreadPoolExecutor.layer({ maxWorkers: 5 })

/** A bound for waits that should return long before it. */
const bounded = { timeout: "5 seconds" } as const

const mul = (x: number, y: number) => x * y

/**
 * Runs the stream, recording each future as it is yielded (so what came before
 * a failure is kept), and returns what was yielded and how the stream ended.
 */
const collect = <F, E>(stream: Stream.Stream<F, E>) =>
  Effect.gen(function* () {
    const yielded: Array<F> = []
    const exit = yield* Effect.exit(Stream.runForEach(stream, (f) => Effect.sync(() => yielded.push(f))))
    return { yielded, exit }
  })

/** The `TimeoutError` a stream failed with; fails the test for any other end. */
const timeoutErrorOf = <A, E>(exit: Exit.Exit<A, E>): Cause.TimeoutError => {
  expect(Exit.isFailure(exit), "expected the stream to fail").toBe(true)
  const error = Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined
  expect(Cause.isTimeoutError(error), `expected a TimeoutError, got ${String(error)}`).toBe(true)
  return error as Cause.TimeoutError
}

/**
 * Where each of `futures` sits in `reference` (-1 if absent). Futures are
 * compared by identity: `toEqual` cannot compare them, since a future is
 * iterable (for `yield*`) and vitest would iterate it.
 */
const indicesIn = (reference: ReadonlyArray<unknown>, futures: Iterable<unknown>): Array<number> =>
  Array.from(futures, (f) => reference.indexOf(f))

const shuffled = <A>(xs: ReadonlyArray<A>): Array<A> => {
  const out = [...xs]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}

describe("Future.asCompleted", () => {
  describe("with a ThreadPoolExecutor (CPython's AsCompletedTests)", () => {
    it.live("yields every future, done beforehand or finished by the pool (test_no_timeout)", () =>
      Effect.gen(function* () {
        const { CANCELLED_AND_NOTIFIED_FUTURE, EXCEPTION_FUTURE, SUCCESSFUL_FUTURE } = yield* makeStates
        const future1 = yield* Executor.submit(mul, 2, 21)
        const future2 = yield* Executor.submit(mul, 7, 6)
        const named = { CANCELLED_AND_NOTIFIED_FUTURE, EXCEPTION_FUTURE, SUCCESSFUL_FUTURE, future1, future2 }
        const { yielded, exit } = yield* collect(Future.asCompleted(Object.values(named)))
        expect(Exit.isSuccess(exit)).toBe(true)
        expect(namesOf(named, yielded).sort()).toEqual(Object.keys(named).sort())
      }).pipe(Effect.provide(pool), liveDeadline)
    )

    for (const timeout of [0, 100]) {
      it.live(
        `fails with TimeoutError after yielding the finished futures, timeout ${timeout} ms (test_future_times_out)`,
        () =>
          Effect.gen(function* () {
            const event = yield* Latch.make()
            const { CANCELLED_AND_NOTIFIED_FUTURE, EXCEPTION_FUTURE, SUCCESSFUL_FUTURE } = yield* makeStates
            const alreadyCompleted = { CANCELLED_AND_NOTIFIED_FUTURE, EXCEPTION_FUTURE, SUCCESSFUL_FUTURE }
            yield* Effect.gen(function* () {
              const future = yield* Executor.submit(event.await)
              const { yielded, exit } = yield* collect(
                Future.asCompleted([...Object.values(alreadyCompleted), future], { timeout })
              )
              timeoutErrorOf(exit)
              // `future` was not yielded.
              expect(namesOf({ ...alreadyCompleted, future }, yielded).sort()).toEqual(
                Object.keys(alreadyCompleted).sort()
              )
            }).pipe(Effect.ensuring(event.open), Effect.provide(pool))
          }).pipe(liveDeadline)
      )
    }

    it.live("yields a future given three times once, from any iterable (test_duplicate_futures)", () =>
      Effect.gen(function* () {
        const future1 = yield* Executor.submit(Effect.sleep("20 millis"))
        function* repeat3() {
          for (let i = 0; i < 3; i++) yield future1
        }
        const { yielded, exit } = yield* collect(Future.asCompleted(repeat3()))
        expect(Exit.isSuccess(exit)).toBe(true)
        expect(indicesIn([future1], yielded)).toEqual([0])
      }).pipe(Effect.provide(pool), liveDeadline)
    )

    it.effect("yields in completion order for tasks with random delays", () =>
      Effect.gen(function* () {
        const delays = shuffled([10, 20, 30, 40, 50, 60, 70, 80])
        const fs = yield* Effect.forEach(delays, (ms) => Executor.submit(Effect.as(Effect.sleep(ms), ms)))
        const consumer = yield* forkNow(collect(Future.asCompleted(fs)))
        yield* settleTest
        yield* TestClock.adjust("100 millis")
        const { yielded, exit } = yield* Fiber.join(consumer)
        expect(Exit.isSuccess(exit)).toBe(true)
        const results = yield* Effect.forEach(yielded, (f) => Future.result(f))
        expect(results).toEqual([10, 20, 30, 40, 50, 60, 70, 80])
      }).pipe(Effect.provide(ThreadPoolExecutor.layer({ maxWorkers: 8 })), testDeadline)
    )

    it.live("yields futures from two executors and bare ones in completion order", () =>
      Effect.gen(function* () {
        const releaseA = yield* Latch.make()
        const releaseB = yield* Latch.make()
        yield* Effect.gen(function* () {
          const executorA = yield* ThreadPoolExecutor.make({ maxWorkers: 1 })
          const executorB = yield* ThreadPoolExecutor.make({ maxWorkers: 1 })
          const fromA = yield* executorA.submit(releaseA.await)
          const fromB = yield* executorB.submit(releaseB.await)
          const bare = yield* pendingFuture
          const done = yield* successfulFuture
          const named = { fromA, fromB, bare, done }
          const consumer = yield* forkNow(collect(Future.asCompleted([fromA, fromB, bare, done], bounded)))
          yield* releaseB.open
          yield* Future.result(fromB, bounded)
          yield* settleLive
          yield* Future.setResult(bare, 1)
          yield* releaseA.open
          const { yielded, exit } = yield* Fiber.join(consumer)
          expect(Exit.isSuccess(exit)).toBe(true)
          expect(namesOf(named, yielded)).toEqual(["done", "fromB", "bare", "fromA"])
        }).pipe(Effect.ensuring(Effect.andThen(releaseA.open, releaseB.open)), Effect.scoped)
      }).pipe(liveDeadline)
    )

    it.live("yields a future cancelled in the queue once the executor reaches it", () =>
      Effect.gen(function* () {
        const event = yield* Latch.make()
        yield* Effect.gen(function* () {
          const blocker = yield* Executor.submit(event.await)
          const queued = yield* Executor.submit(mul, 1, 2)
          expect(yield* Future.cancel(queued)).toBe(true)
          const consumer = yield* forkNow(collect(Future.asCompleted([queued, blocker], bounded)))
          yield* settleLive
          expectRunning(consumer, "asCompleted with a cancelled future the executor has not reached")
          yield* event.open
          const { yielded, exit } = yield* Fiber.join(consumer)
          expect(Exit.isSuccess(exit)).toBe(true)
          // The worker notices the cancelled future only after the blocker ends.
          expect(namesOf({ queued, blocker }, yielded)).toEqual(["blocker", "queued"])
        }).pipe(Effect.ensuring(event.open), Effect.provide(ThreadPoolExecutor.layer({ maxWorkers: 1 })))
      }).pipe(liveDeadline)
    )
  })

  describe("with bare futures", () => {
    it.effect(
      "yields each future as the one before it is consumed completes the next (test_free_reference_yielded_future)",
      () =>
        Effect.gen(function* () {
          const pending = yield* Effect.forEach(Array.from({ length: 8 }), () => Future.make<string>())
          const notified = yield* Effect.tap(Future.make<string>(), (f) =>
            Effect.andThen(Future.cancel(f), notifyCancel(f))
          )
          const finished = yield* Effect.tap(Future.make<string>(), (f) => Future.setResult(f, "42"))
          const futuresList: Array<Future.Future<string>> = [...pending, notified, finished]

          const first = yield* collect(Future.asCompleted(futuresList, { timeout: 0 }))
          expect(timeoutErrorOf(first.exit).message).toBe("8 (of 10) futures unfinished")
          expect(indicesIn([notified, finished], first.yielded).sort()).toEqual([0, 1])
          for (const f of first.yielded) futuresList.splice(futuresList.indexOf(f), 1)

          yield* Future.setResult(futuresList[0]!, "test")
          const second = yield* collect(
            Future.asCompleted([...futuresList]).pipe(
              Stream.tap((f) =>
                Effect.gen(function* () {
                  futuresList.splice(futuresList.indexOf(f), 1)
                  if (futuresList.length > 0) yield* Future.setResult(futuresList[0]!, "test")
                })
              )
            )
          )
          expect(Exit.isSuccess(second.exit)).toBe(true)
          expect(indicesIn(pending, second.yielded)).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
          expect(futuresList).toEqual([])
        }).pipe(testDeadline)
    )

    it.effect(
      "names unfinished futures of the total in the TimeoutError message (test_correct_timeout_exception_msg)",
      () =>
        Effect.gen(function* () {
          const { CANCELLED_AND_NOTIFIED_FUTURE, PENDING_FUTURE, RUNNING_FUTURE, SUCCESSFUL_FUTURE } = yield* makeStates
          const { exit } = yield* collect(
            Future.asCompleted([CANCELLED_AND_NOTIFIED_FUTURE, PENDING_FUTURE, RUNNING_FUTURE, SUCCESSFUL_FUTURE], {
              timeout: 0
            })
          )
          expect(timeoutErrorOf(exit).message).toBe("2 (of 4) futures unfinished")
        }).pipe(testDeadline)
    )

    it.effect("yields already-done futures first, then the rest in the order they complete", () =>
      Effect.gen(function* () {
        const { SUCCESSFUL_FUTURE, EXCEPTION_FUTURE, CANCELLED_AND_NOTIFIED_FUTURE } = yield* makeStates
        const a = yield* pendingFuture
        const b = yield* runningFuture
        const c = yield* pendingFuture
        const d = yield* cancelledFuture
        const named = { a, b, c, d, SUCCESSFUL_FUTURE, EXCEPTION_FUTURE, CANCELLED_AND_NOTIFIED_FUTURE }
        const consumer = yield* forkNow(
          collect(Future.asCompleted([a, SUCCESSFUL_FUTURE, b, EXCEPTION_FUTURE, c, CANCELLED_AND_NOTIFIED_FUTURE, d]))
        )
        expect([a, b, c, d].map(waiterCount)).toEqual([1, 1, 1, 1])
        yield* Future.setResult(c, 3)
        yield* notifyCancel(d)
        yield* Future.setException(a, new OSError({ message: "a failed" }))
        yield* Future.setResult(b, 2)
        const { yielded, exit } = yield* Fiber.join(consumer)
        expect(Exit.isSuccess(exit)).toBe(true)
        const names = namesOf(named, yielded)
        expect(names.slice(0, 3).sort()).toEqual([
          "CANCELLED_AND_NOTIFIED_FUTURE",
          "EXCEPTION_FUTURE",
          "SUCCESSFUL_FUTURE"
        ])
        expect(names.slice(3)).toEqual(["c", "d", "a", "b"])
      }).pipe(testDeadline)
    )

    it.effect("yields a future before another that a fiber it woke completed", () =>
      Effect.gen(function* () {
        const x = yield* pendingFuture
        const y = yield* pendingFuture
        const consumer = yield* forkNow(collect(Future.asCompleted([x, y])))
        // A fiber blocked on x's result completes y as soon as it wakes: x finished first.
        yield* forkNow(Effect.andThen(Future.result(x), Future.setResult(y, 2)))
        yield* settleTest
        yield* Future.setResult(x, 1)
        const { yielded, exit } = yield* Fiber.join(consumer)
        expect(Exit.isSuccess(exit)).toBe(true)
        expect(namesOf({ x, y }, yielded)).toEqual(["x", "y"])
      }).pipe(testDeadline)
    )

    it.effect("yields in completion order for a random order of completion", () =>
      Effect.gen(function* () {
        const fs = yield* Effect.forEach(Array.from({ length: 12 }), () => pendingFuture)
        const order = shuffled(fs)
        const consumer = yield* forkNow(collect(Future.asCompleted(fs)))
        expect(fs.map(waiterCount)).toEqual(fs.map(() => 1))
        yield* Effect.forEach(order, (f, i) =>
          i % 2 === 0 ? Effect.andThen(Effect.yieldNow, Future.setResult(f, i)) : Future.setResult(f, i)
        )
        const { yielded, exit } = yield* Fiber.join(consumer)
        expect(Exit.isSuccess(exit)).toBe(true)
        expect(indicesIn(fs, yielded)).toEqual(indicesIn(fs, order))
      }).pipe(testDeadline)
    )

    it.effect("yields each future once however often it is given", () =>
      Effect.gen(function* () {
        const done = yield* successfulFuture
        const a = yield* pendingFuture
        const b = yield* pendingFuture
        const consumer = yield* forkNow(collect(Future.asCompleted([done, a, done, b, a, b, done])))
        yield* settleTest
        yield* Future.setResult(b, 2)
        yield* Future.setResult(a, 1)
        const { yielded, exit } = yield* Fiber.join(consumer)
        expect(Exit.isSuccess(exit)).toBe(true)
        expect(namesOf({ done, a, b }, yielded)).toEqual(["done", "b", "a"])
      }).pipe(testDeadline)
    )

    it.effect("fails with TimeoutError when the timeout passes, after yielding every finished future", () =>
      Effect.gen(function* () {
        const { SUCCESSFUL_FUTURE, EXCEPTION_FUTURE } = yield* makeStates
        const a = yield* pendingFuture
        const b = yield* pendingFuture
        const c = yield* runningFuture
        const named = { SUCCESSFUL_FUTURE, EXCEPTION_FUTURE, a, b, c }
        const consumer = yield* forkNow(collect(Future.asCompleted(Object.values(named), { timeout: "1 second" })))
        yield* settleTest
        yield* Future.setResult(a, 1)
        yield* TestClock.adjust("999 millis")
        yield* settleTest
        expectRunning(consumer, "asCompleted 1 ms before its timeout")
        yield* TestClock.adjust("1 milli")
        const { yielded, exit } = yield* Fiber.join(consumer)
        expect(timeoutErrorOf(exit).message).toBe("2 (of 5) futures unfinished")
        const names = namesOf(named, yielded)
        expect(names.slice(0, 2).sort()).toEqual(["EXCEPTION_FUTURE", "SUCCESSFUL_FUTURE"])
        expect(names.slice(2)).toEqual(["a"])
        expect([waiterCount(b), waiterCount(c)]).toEqual([0, 0])
      }).pipe(testDeadline)
    )

    it.effect("counts a cancelled but unnotified future as unfinished, and yields it once notified", () =>
      Effect.gen(function* () {
        const { CANCELLED_FUTURE, CANCELLED_AND_NOTIFIED_FUTURE } = yield* makeStates
        const named = { CANCELLED_FUTURE, CANCELLED_AND_NOTIFIED_FUTURE }
        const timedOut = yield* collect(Future.asCompleted(Object.values(named), { timeout: 0 }))
        expect(timeoutErrorOf(timedOut.exit).message).toBe("1 (of 2) futures unfinished")
        expect(namesOf(named, timedOut.yielded)).toEqual(["CANCELLED_AND_NOTIFIED_FUTURE"])

        const consumer = yield* forkNow(collect(Future.asCompleted(Object.values(named))))
        yield* settleTest
        expectRunning(consumer, "asCompleted with an unnotified cancelled future")
        yield* notifyCancel(CANCELLED_FUTURE)
        const { yielded, exit } = yield* Fiber.join(consumer)
        expect(Exit.isSuccess(exit)).toBe(true)
        expect(namesOf(named, yielded)).toEqual(["CANCELLED_AND_NOTIFIED_FUTURE", "CANCELLED_FUTURE"])
      }).pipe(testDeadline)
    )

    it.effect("ends without error with a zero timeout when every future is done", () =>
      Effect.gen(function* () {
        const { SUCCESSFUL_FUTURE, EXCEPTION_FUTURE, CANCELLED_AND_NOTIFIED_FUTURE } = yield* makeStates
        const named = { SUCCESSFUL_FUTURE, EXCEPTION_FUTURE, CANCELLED_AND_NOTIFIED_FUTURE }
        const { yielded, exit } = yield* collect(Future.asCompleted(Object.values(named), { timeout: 0 }))
        expect(Exit.isSuccess(exit)).toBe(true)
        expect(namesOf(named, yielded).sort()).toEqual(Object.keys(named).sort())
      }).pipe(testDeadline)
    )

    it.effect("ends at once for no futures, with or without a timeout", () =>
      Effect.gen(function* () {
        const optionsList: Array<Future.TimeoutOptions | undefined> = [
          undefined,
          { timeout: 0 },
          { timeout: "1 second" }
        ]
        for (const options of optionsList) {
          const { yielded, exit } = yield* collect(Future.asCompleted([] as Array<TestFuture>, options))
          expect(Exit.isSuccess(exit)).toBe(true)
          expect(yielded).toEqual([])
        }
      }).pipe(testDeadline)
    )

    it.effect("ends before its timeout once every future is yielded, and the timeout no longer fires", () =>
      Effect.gen(function* () {
        const a = yield* pendingFuture
        const consumer = yield* forkNow(collect(Future.asCompleted([a], { timeout: "1 second" })))
        yield* settleTest
        yield* Future.setResult(a, 1)
        const { yielded, exit } = yield* Fiber.join(consumer)
        expect(Exit.isSuccess(exit)).toBe(true)
        expect(indicesIn([a], yielded)).toEqual([0])
        yield* TestClock.adjust("2 seconds")
      }).pipe(testDeadline)
    )

    it.effect("wakes on completion without polling: no clock time needs to pass", () =>
      Effect.gen(function* () {
        const a = yield* pendingFuture
        const b = yield* pendingFuture
        const startedAt = yield* Clock.currentTimeMillis
        const consumer = yield* forkNow(collect(Future.asCompleted([a, b])))
        yield* settleTest
        yield* Future.setResult(b, 2)
        yield* Future.setResult(a, 1)
        const { yielded } = yield* Fiber.join(consumer)
        expect(namesOf({ a, b }, yielded)).toEqual(["b", "a"])
        expect(yield* Clock.currentTimeMillis).toBe(startedAt)
      }).pipe(testDeadline)
    )

    it.live("yields a future promptly when it completes, well before a long timeout", () =>
      Effect.gen(function* () {
        const a = yield* pendingFuture
        const b = yield* pendingFuture
        yield* forkNow(Effect.andThen(Effect.sleep("20 millis"), Future.setResult(a, 1)))
        const start = yield* Clock.currentTimeMillis
        const first = yield* Future.asCompleted([a, b], { timeout: "30 seconds" }).pipe(
          Stream.take(1),
          Stream.runCollect
        )
        const elapsed = (yield* Clock.currentTimeMillis) - start
        expect(namesOf({ a, b }, first)).toEqual(["a"])
        expect(elapsed).toBeLessThan(1000)
      }).pipe(liveDeadline)
    )

    it.effect("removes its waiters when the consumer stops early, so completing the futures later is fine", () =>
      Effect.gen(function* () {
        const a = yield* pendingFuture
        const b = yield* pendingFuture
        const c = yield* pendingFuture
        const consumer = yield* forkNow(
          Future.asCompleted([a, b, c], { timeout: "1 second" }).pipe(Stream.take(1), Stream.runCollect)
        )
        yield* settleTest
        expect([waiterCount(a), waiterCount(b), waiterCount(c)]).toEqual([1, 1, 1])
        yield* Future.setResult(b, 2)
        expect(namesOf({ a, b, c }, yield* Fiber.join(consumer))).toEqual(["b"])
        expect([waiterCount(a), waiterCount(c)]).toEqual([0, 0])
        // Neither completing the rest nor the old timeout passing reaches the closed stream.
        yield* Future.setResult(a, 1)
        yield* Future.setException(c, new OSError({ message: "late" }))
        yield* TestClock.adjust("2 seconds")
        expect(yield* Future.result(a)).toBe(1)
      }).pipe(testDeadline)
    )

    it.effect("removes its waiters when the consuming fiber is interrupted", () =>
      Effect.gen(function* () {
        const a = yield* pendingFuture
        const b = yield* runningFuture
        const consumer = yield* forkNow(collect(Future.asCompleted([a, b], { timeout: "1 second" })))
        yield* settleTest
        expect([waiterCount(a), waiterCount(b)]).toEqual([1, 1])
        yield* Fiber.interrupt(consumer)
        expect([waiterCount(a), waiterCount(b)]).toEqual([0, 0])
        yield* Future.setResult(a, 1)
        yield* Future.setResult(b, 2)
        yield* TestClock.adjust("2 seconds")
        expect(yield* Future.result(b)).toBe(2)
      }).pipe(testDeadline)
    )

    it.effect("removes its waiters when it ends normally", () =>
      Effect.gen(function* () {
        const a = yield* pendingFuture
        const b = yield* pendingFuture
        const consumer = yield* forkNow(collect(Future.asCompleted([a, b])))
        yield* settleTest
        yield* Future.setResult(a, 1)
        yield* Future.setResult(b, 2)
        yield* Fiber.join(consumer)
        expect([waiterCount(a), waiterCount(b)]).toEqual([0, 0])
      }).pipe(testDeadline)
    )

    it.effect("dies with IllegalArgumentError for a timeout that is not a duration", () =>
      Effect.gen(function* () {
        const a = yield* pendingFuture
        const defect = yield* defectOf(Stream.runDrain(Future.asCompleted([a], { timeout: "soon" as any })))
        expect(Cause.isIllegalArgumentError(defect)).toBe(true)
        expect(String((defect as Error).message)).toContain("timeout")
      }).pipe(testDeadline)
    )
  })
})
