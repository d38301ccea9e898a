/**
 * `Future.wait`: a port of CPython's `Lib/test/test_concurrent_futures/test_wait.py`
 * (run against a real `ThreadPoolExecutor`), plus the same rules checked on
 * bare futures, where each step is driven by hand.
 */
import { describe, expect, it } from "@effect/vitest"
import { Cause, Clock, Effect, Exit, Fiber, Latch } from "effect"
import { TestClock } from "effect/testing"
import { Executor, Future, ThreadPoolExecutor } from "../src/index.ts"
import {
  cancelledFuture,
  defectOf,
  exceptionFuture,
  expectRunning,
  forkNow,
  liveDeadline,
  makeStates,
  notifyCancel,
  OSError,
  partitionNames,
  pendingFuture,
  runningFuture,
  settleLive,
  settleTest,
  successfulFuture,
  testDeadline,
  waiterCount
} from "./fixtures/states.ts"

/** CPython's `ExecutorMixin.worker_count`. */
const pool = ThreadPoolExecutor.layer({ maxWorkers: 5 })

/** A bound for waits that should return long before it. */
const bounded = { timeout: "5 seconds" } as const

const mul = (x: number, y: number) => x * y

/** CPython's `wait_and_raise`: waits for the event, then fails. */
const waitAndRaise = (event: Latch.Latch) =>
  event.await.pipe(Effect.andThen(Effect.fail(new OSError({ message: "this is an exception" }))))

/** CPython's `divmod(21, 0)`: a function that throws, so a defect here. */
const divideByZero = (): number => {
  throw new RangeError("integer division or modulo by zero")
}

describe("Future.wait", () => {
  it("exports Python's return_when constants under their own names", () => {
    expect(Future.FIRST_COMPLETED).toBe("FIRST_COMPLETED")
    expect(Future.FIRST_EXCEPTION).toBe("FIRST_EXCEPTION")
    expect(Future.ALL_COMPLETED).toBe("ALL_COMPLETED")
  })

  describe("with a ThreadPoolExecutor (CPython's WaitTests)", () => {
    it.live("counts a future given twice once (test_20369)", () =>
      Effect.gen(function* () {
        const future = yield* Executor.submit(mul, 1, 2)
        const result = yield* Future.wait([future, future], { ...bounded, returnWhen: Future.ALL_COMPLETED })
        expect(partitionNames({ future }, result)).toEqual({ done: ["future"], notDone: [] })
      }).pipe(Effect.provide(pool), liveDeadline)
    )

    it.live("returns when the first future finishes, leaving a cancelled one not done (test_first_completed)", () =>
      Effect.gen(function* () {
        const event = yield* Latch.make()
        const CANCELLED_FUTURE = yield* cancelledFuture
        yield* Effect.gen(function* () {
          const future1 = yield* Executor.submit(mul, 21, 2)
          const future2 = yield* Executor.submit(event.await)
          const result = yield* Future.wait([CANCELLED_FUTURE, future1, future2], {
            ...bounded,
            returnWhen: Future.FIRST_COMPLETED
          })
          expect(partitionNames({ CANCELLED_FUTURE, future1, future2 }, result)).toEqual({
            done: ["future1"],
            notDone: ["CANCELLED_FUTURE", "future2"]
          })
          yield* event.open
          yield* Future.result(future2, bounded)
        }).pipe(Effect.ensuring(event.open), Effect.provide(pool))
      }).pipe(liveDeadline)
    )

    it.live(
      "returns at once under FIRST_COMPLETED when some futures are already done (test_first_completed_some_already_completed)",
      () =>
        Effect.gen(function* () {
          const event = yield* Latch.make()
          const { CANCELLED_AND_NOTIFIED_FUTURE, SUCCESSFUL_FUTURE } = yield* makeStates
          yield* Effect.gen(function* () {
            const future1 = yield* Executor.submit(event.await)
            const result = yield* Future.wait([CANCELLED_AND_NOTIFIED_FUTURE, SUCCESSFUL_FUTURE, future1], {
              ...bounded,
              returnWhen: Future.FIRST_COMPLETED
            })
            expect(partitionNames({ CANCELLED_AND_NOTIFIED_FUTURE, SUCCESSFUL_FUTURE, future1 }, result)).toEqual({
              done: ["CANCELLED_AND_NOTIFIED_FUTURE", "SUCCESSFUL_FUTURE"],
              notDone: ["future1"]
            })
            yield* event.open
            yield* Future.result(future1, bounded)
          }).pipe(Effect.ensuring(event.open), Effect.provide(pool))
        }).pipe(liveDeadline)
    )

    it.live("returns when a future fails, not when one succeeds (test_first_exception)", () =>
      Effect.gen(function* () {
        const event1 = yield* Latch.make()
        const event2 = yield* Latch.make()
        yield* Effect.gen(function* () {
          const future1 = yield* Executor.submit(mul, 2, 21)
          const future2 = yield* Executor.submit(waitAndRaise(event1))
          const future3 = yield* Executor.submit(event2.await)
          // Ensure that future1 is completed before future2 finishes.
          yield* Future.result(future1, bounded).pipe(Effect.andThen(event1.open), Effect.forkChild)
          const result = yield* Future.wait([future1, future2, future3], {
            ...bounded,
            returnWhen: Future.FIRST_EXCEPTION
          })
          expect(partitionNames({ future1, future2, future3 }, result)).toEqual({
            done: ["future1", "future2"],
            notDone: ["future3"]
          })
          yield* event2.open
          yield* Future.result(future3, bounded)
        }).pipe(Effect.ensuring(Effect.andThen(event1.open, event2.open)), Effect.provide(pool))
      }).pipe(liveDeadline)
    )

    it.live(
      "returns at once under FIRST_EXCEPTION when a future has just failed, ignoring cancellations (test_first_exception_some_already_complete)",
      () =>
        Effect.gen(function* () {
          const event = yield* Latch.make()
          const { SUCCESSFUL_FUTURE, CANCELLED_FUTURE, CANCELLED_AND_NOTIFIED_FUTURE } = yield* makeStates
          yield* Effect.gen(function* () {
            const future1 = yield* Executor.submit(divideByZero)
            const future2 = yield* Executor.submit(event.await)
            const result = yield* Future.wait(
              [SUCCESSFUL_FUTURE, CANCELLED_FUTURE, CANCELLED_AND_NOTIFIED_FUTURE, future1, future2],
              { ...bounded, returnWhen: Future.FIRST_EXCEPTION }
            )
            expect(
              partitionNames(
                { SUCCESSFUL_FUTURE, CANCELLED_FUTURE, CANCELLED_AND_NOTIFIED_FUTURE, future1, future2 },
                result
              )
            ).toEqual({
              done: ["CANCELLED_AND_NOTIFIED_FUTURE", "SUCCESSFUL_FUTURE", "future1"],
              notDone: ["CANCELLED_FUTURE", "future2"]
            })
            yield* event.open
            yield* Future.result(future2, bounded)
          }).pipe(Effect.ensuring(event.open), Effect.provide(pool))
        }).pipe(liveDeadline)
    )

    it.live(
      "returns at once under FIRST_EXCEPTION when a future had already failed (test_first_exception_one_already_failed)",
      () =>
        Effect.gen(function* () {
          const event = yield* Latch.make()
          const EXCEPTION_FUTURE = yield* exceptionFuture
          yield* Effect.gen(function* () {
            const future1 = yield* Executor.submit(event.await)
            const result = yield* Future.wait([EXCEPTION_FUTURE, future1], {
              ...bounded,
              returnWhen: Future.FIRST_EXCEPTION
            })
            expect(partitionNames({ EXCEPTION_FUTURE, future1 }, result)).toEqual({
              done: ["EXCEPTION_FUTURE"],
              notDone: ["future1"]
            })
            yield* event.open
            yield* Future.result(future1, bounded)
          }).pipe(Effect.ensuring(event.open), Effect.provide(pool))
        }).pipe(liveDeadline)
    )

    it.live("returns when every future is done, failed ones included (test_all_completed)", () =>
      Effect.gen(function* () {
        const { SUCCESSFUL_FUTURE, CANCELLED_AND_NOTIFIED_FUTURE, EXCEPTION_FUTURE } = yield* makeStates
        const future1 = yield* Executor.submit(divideByZero)
        const future2 = yield* Executor.submit(mul, 2, 21)
        const named = { SUCCESSFUL_FUTURE, CANCELLED_AND_NOTIFIED_FUTURE, EXCEPTION_FUTURE, future1, future2 }
        const result = yield* Future.wait(Object.values(named), { ...bounded, returnWhen: Future.ALL_COMPLETED })
        expect(partitionNames(named, result)).toEqual({
          done: ["CANCELLED_AND_NOTIFIED_FUTURE", "EXCEPTION_FUTURE", "SUCCESSFUL_FUTURE", "future1", "future2"],
          notDone: []
        })
      }).pipe(Effect.provide(pool), liveDeadline)
    )

    it.live("returns the partition when the timeout passes, without failing (test_timeout)", () =>
      Effect.gen(function* () {
        const event = yield* Latch.make()
        const { CANCELLED_AND_NOTIFIED_FUTURE, EXCEPTION_FUTURE, SUCCESSFUL_FUTURE } = yield* makeStates
        yield* Effect.gen(function* () {
          const future = yield* Executor.submit(event.await)
          const named = { CANCELLED_AND_NOTIFIED_FUTURE, EXCEPTION_FUTURE, SUCCESSFUL_FUTURE, future }
          const result = yield* Future.wait(Object.values(named), {
            timeout: "50 millis",
            returnWhen: Future.ALL_COMPLETED
          })
          expect(partitionNames(named, result)).toEqual({
            done: ["CANCELLED_AND_NOTIFIED_FUTURE", "EXCEPTION_FUTURE", "SUCCESSFUL_FUTURE"],
            notDone: ["future"]
          })
          yield* event.open
          yield* Future.result(future, bounded)
        }).pipe(Effect.ensuring(event.open), Effect.provide(pool))
      }).pipe(liveDeadline)
    )

    it.live("waits for a hundred futures released at once (test_pending_calls_race)", () =>
      Effect.gen(function* () {
        const event = yield* Latch.make()
        yield* Effect.gen(function* () {
          const fs = yield* Effect.forEach(Array.from({ length: 100 }), () => Executor.submit(event.await))
          yield* event.open
          const { done, notDone } = yield* Future.wait(fs, { ...bounded, returnWhen: Future.ALL_COMPLETED })
          expect(done.size).toBe(100)
          expect(notDone.size).toBe(0)
        }).pipe(Effect.ensuring(event.open), Effect.provide(pool))
      }).pipe(liveDeadline)
    )

    it.live("counts a future cancelled in the queue as done only once the executor reaches it", () =>
      Effect.gen(function* () {
        const event = yield* Latch.make()
        yield* Effect.gen(function* () {
          const blocker = yield* Executor.submit(event.await)
          const queued = yield* Executor.submit(mul, 1, 2)
          expect(yield* Future.cancel(queued)).toBe(true)
          expect(yield* Future.done(queued)).toBe(true)
          const before = yield* Future.wait([queued], { timeout: 0 })
          expect(partitionNames({ queued }, before)).toEqual({ done: [], notDone: ["queued"] })

          const waiting = yield* forkNow(Future.wait([queued], bounded))
          yield* settleLive
          expectRunning(waiting, "wait on a cancelled future the executor has not reached")
          yield* event.open
          const after = yield* Fiber.join(waiting)
          expect(partitionNames({ queued }, after)).toEqual({ done: ["queued"], notDone: [] })
          expect(yield* Future.state(queued)).toBe("CANCELLED_AND_NOTIFIED")
          yield* Future.result(blocker, bounded)
        }).pipe(Effect.ensuring(event.open), Effect.provide(ThreadPoolExecutor.layer({ maxWorkers: 1 })))
      }).pipe(liveDeadline)
    )

    it.live("under FIRST_EXCEPTION, a running task stopped with Future.interrupt is done but is not a failure", () =>
      Effect.gen(function* () {
        const event = yield* Latch.make()
        // Released at the end, so no task outlives the test and the pool can shut down.
        const hold = yield* Latch.make()
        yield* Effect.gen(function* () {
          const future1 = yield* Executor.submit(hold.await)
          const future2 = yield* Executor.submit(waitAndRaise(event))
          const future3 = yield* Executor.submit(hold.await)
          expect(yield* Future.running(future1)).toBe(true)
          const waiting = yield* forkNow(
            Future.wait([future1, future2, future3], { ...bounded, returnWhen: Future.FIRST_EXCEPTION })
          )
          expect(yield* Future.interrupt(future1)).toBe(true)
          expect(yield* Future.state(future1)).toBe("CANCELLED_AND_NOTIFIED")
          yield* settleLive
          expectRunning(waiting, "FIRST_EXCEPTION after an interruption")
          yield* event.open
          const result = yield* Fiber.join(waiting)
          expect(partitionNames({ future1, future2, future3 }, result)).toEqual({
            done: ["future1", "future2"],
            notDone: ["future3"]
          })
        }).pipe(Effect.ensuring(Effect.andThen(event.open, hold.open)), Effect.provide(pool))
      }).pipe(liveDeadline)
    )

    it.live("takes futures from two executors at once", () =>
      Effect.gen(function* () {
        const event = yield* Latch.make()
        yield* Effect.gen(function* () {
          const executorA = yield* ThreadPoolExecutor.make({ maxWorkers: 1 })
          const executorB = yield* ThreadPoolExecutor.make({ maxWorkers: 1 })
          const fromA = yield* executorA.submit(mul, 6, 7)
          const fromB = yield* executorB.submit(event.await)
          const bare = yield* pendingFuture
          const named = { fromA, fromB, bare }

          const first = yield* Future.wait([fromB, bare, fromA], { ...bounded, returnWhen: Future.FIRST_COMPLETED })
          expect(partitionNames(named, first)).toEqual({ done: ["fromA"], notDone: ["bare", "fromB"] })

          const all = yield* forkNow(Future.wait([fromB, bare, fromA], bounded))
          yield* event.open
          yield* settleLive
          expectRunning(all, "ALL_COMPLETED with a bare future still pending")
          yield* Future.setResult(bare, 1)
          expect(partitionNames(named, yield* Fiber.join(all))).toEqual({
            done: ["bare", "fromA", "fromB"],
            notDone: []
          })
        }).pipe(Effect.ensuring(event.open), Effect.scoped)
      }).pipe(liveDeadline)
    )
  })

  describe("with bare futures", () => {
    it.effect("returns two empty sets for no futures", () =>
      Effect.gen(function* () {
        for (const returnWhen of [Future.FIRST_COMPLETED, Future.FIRST_EXCEPTION, Future.ALL_COMPLETED]) {
          const { done, notDone } = yield* Future.wait([], { returnWhen })
          expect(done.size).toBe(0)
          expect(notDone.size).toBe(0)
        }
      }).pipe(testDeadline)
    )

    it.effect("waits for all futures by default", () =>
      Effect.gen(function* () {
        const a = yield* pendingFuture
        const b = yield* runningFuture
        const waiting = yield* forkNow(Future.wait([a, b]))
        expect([waiterCount(a), waiterCount(b)]).toEqual([1, 1])
        yield* Future.setResult(a, 1)
        yield* settleTest
        expectRunning(waiting, "wait with one future left")
        yield* Future.setException(b, new OSError({ message: "no" }))
        expect(partitionNames({ a, b }, yield* Fiber.join(waiting))).toEqual({ done: ["a", "b"], notDone: [] })
      }).pipe(testDeadline)
    )

    it.effect("accepts any iterable and counts duplicates once", () =>
      Effect.gen(function* () {
        const a = yield* successfulFuture
        const b = yield* pendingFuture
        function* futures() {
          yield a
          yield b
          yield a
          yield b
        }
        const result = yield* Future.wait(futures(), { returnWhen: Future.FIRST_COMPLETED })
        expect(partitionNames({ a, b }, result)).toEqual({ done: ["a"], notDone: ["b"] })
        const waiting = yield* forkNow(Future.wait(futures(), { returnWhen: Future.ALL_COMPLETED }))
        yield* Future.setResult(b, 2)
        const all = yield* Fiber.join(waiting)
        expect(all.done.size).toBe(2)
        expect(all.notDone.size).toBe(0)
      }).pipe(testDeadline)
    )

    it.effect("FIRST_COMPLETED returns when a pending future finishes", () =>
      Effect.gen(function* () {
        const a = yield* pendingFuture
        const b = yield* runningFuture
        const c = yield* pendingFuture
        const waiting = yield* forkNow(Future.wait([a, b, c], { returnWhen: Future.FIRST_COMPLETED }))
        expect([waiterCount(a), waiterCount(b), waiterCount(c)]).toEqual([1, 1, 1])
        yield* settleTest
        expectRunning(waiting, "FIRST_COMPLETED before anything finished")
        yield* Future.setResult(b, 1)
        expect(partitionNames({ a, b, c }, yield* Fiber.join(waiting))).toEqual({ done: ["b"], notDone: ["a", "c"] })
      }).pipe(testDeadline)
    )

    it.effect("FIRST_COMPLETED returns for a cancelled future only once it is notified", () =>
      Effect.gen(function* () {
        const a = yield* pendingFuture
        const b = yield* pendingFuture
        const waiting = yield* forkNow(Future.wait([a, b], { returnWhen: Future.FIRST_COMPLETED }))
        expect(waiterCount(a)).toBe(1)
        expect(yield* Future.cancel(a)).toBe(true)
        yield* settleTest
        expectRunning(waiting, "FIRST_COMPLETED after a cancel with no notification")
        yield* notifyCancel(a)
        expect(partitionNames({ a, b }, yield* Fiber.join(waiting))).toEqual({ done: ["a"], notDone: ["b"] })
      }).pipe(testDeadline)
    )

    it.effect("counts a cancelled but unnotified future as not done and a notified one as done", () =>
      Effect.gen(function* () {
        const { CANCELLED_FUTURE, CANCELLED_AND_NOTIFIED_FUTURE, SUCCESSFUL_FUTURE } = yield* makeStates
        const named = { CANCELLED_FUTURE, CANCELLED_AND_NOTIFIED_FUTURE, SUCCESSFUL_FUTURE }
        expect(yield* Future.done(CANCELLED_FUTURE)).toBe(true)
        expect(yield* Future.done(CANCELLED_AND_NOTIFIED_FUTURE)).toBe(true)

        const waiting = yield* forkNow(Future.wait(Object.values(named), { timeout: "1 second" }))
        yield* settleTest
        expectRunning(waiting, "ALL_COMPLETED with an unnotified cancelled future")
        yield* TestClock.adjust("1 second")
        expect(partitionNames(named, yield* Fiber.join(waiting))).toEqual({
          done: ["CANCELLED_AND_NOTIFIED_FUTURE", "SUCCESSFUL_FUTURE"],
          notDone: ["CANCELLED_FUTURE"]
        })

        const notified = yield* Future.wait([CANCELLED_AND_NOTIFIED_FUTURE, SUCCESSFUL_FUTURE])
        expect(notified.done.size).toBe(2)
      }).pipe(testDeadline)
    )

    it.effect("FIRST_EXCEPTION does not return for a cancelled or successful future, only for a failed one", () =>
      Effect.gen(function* () {
        const a = yield* pendingFuture
        const b = yield* runningFuture
        const c = yield* runningFuture
        const d = yield* pendingFuture
        const waiting = yield* forkNow(Future.wait([a, b, c, d], { returnWhen: Future.FIRST_EXCEPTION }))
        expect([waiterCount(a), waiterCount(b), waiterCount(c), waiterCount(d)]).toEqual([1, 1, 1, 1])
        yield* Future.cancel(a)
        yield* notifyCancel(a)
        yield* Future.setResult(b, 1)
        yield* settleTest
        expectRunning(waiting, "FIRST_EXCEPTION after a cancellation and a success")
        yield* Future.setException(c, new OSError({ message: "failed" }))
        expect(partitionNames({ a, b, c, d }, yield* Fiber.join(waiting))).toEqual({
          done: ["a", "b", "c"],
          notDone: ["d"]
        })
      }).pipe(testDeadline)
    )

    it.effect("FIRST_EXCEPTION counts a defect as a failure", () =>
      Effect.gen(function* () {
        const a = yield* runningFuture
        const b = yield* pendingFuture
        const waiting = yield* forkNow(Future.wait([a, b], { returnWhen: Future.FIRST_EXCEPTION }))
        expect(waiterCount(a)).toBe(1)
        yield* Future.setExit(a, Exit.die(new Error("boom")))
        expect(partitionNames({ a, b }, yield* Fiber.join(waiting))).toEqual({ done: ["a"], notDone: ["b"] })
      }).pipe(testDeadline)
    )

    it.effect("FIRST_EXCEPTION waits for all futures when none fails", () =>
      Effect.gen(function* () {
        const a = yield* runningFuture
        const b = yield* pendingFuture
        const waiting = yield* forkNow(Future.wait([a, b], { returnWhen: Future.FIRST_EXCEPTION }))
        expect([waiterCount(a), waiterCount(b)]).toEqual([1, 1])
        yield* Future.setResult(a, 1)
        yield* settleTest
        expectRunning(waiting, "FIRST_EXCEPTION with one future left and no failure")
        yield* Future.cancel(b)
        yield* notifyCancel(b)
        expect(partitionNames({ a, b }, yield* Fiber.join(waiting))).toEqual({ done: ["a", "b"], notDone: [] })
      }).pipe(testDeadline)
    )

    for (const [returnWhen, name] of [
      [
        Future.FIRST_EXCEPTION,
        "FIRST_EXCEPTION returns at once when an already-done future failed, whatever else is done"
      ],
      [Future.FIRST_COMPLETED, "FIRST_COMPLETED returns at once when a future is already done"]
    ] as const) {
      it.effect(name, () =>
        Effect.gen(function* () {
          const states = yield* makeStates
          const result = yield* Future.wait(Object.values(states), { returnWhen })
          expect(partitionNames(states, result)).toEqual({
            done: ["CANCELLED_AND_NOTIFIED_FUTURE", "EXCEPTION_FUTURE", "SUCCESSFUL_FUTURE"],
            notDone: ["CANCELLED_FUTURE", "PENDING_FUTURE", "RUNNING_FUTURE"]
          })
        }).pipe(testDeadline)
      )
    }

    it.effect("FIRST_EXCEPTION does not return at once for already-done futures that did not fail", () =>
      Effect.gen(function* () {
        const { CANCELLED_AND_NOTIFIED_FUTURE, SUCCESSFUL_FUTURE, RUNNING_FUTURE } = yield* makeStates
        const named = { CANCELLED_AND_NOTIFIED_FUTURE, SUCCESSFUL_FUTURE, RUNNING_FUTURE }
        const waiting = yield* forkNow(Future.wait(Object.values(named), { returnWhen: Future.FIRST_EXCEPTION }))
        yield* settleTest
        expectRunning(waiting, "FIRST_EXCEPTION with only successes and cancellations done")
        yield* Future.setException(RUNNING_FUTURE, new OSError({ message: "late" }))
        expect(partitionNames(named, yield* Fiber.join(waiting)).notDone).toEqual([])
      }).pipe(testDeadline)
    )

    it.effect("ALL_COMPLETED returns only when the last future is done", () =>
      Effect.gen(function* () {
        const a = yield* pendingFuture
        const b = yield* runningFuture
        const c = yield* successfulFuture
        const waiting = yield* forkNow(Future.wait([a, b, c], { returnWhen: Future.ALL_COMPLETED }))
        expect([waiterCount(a), waiterCount(b), waiterCount(c)]).toEqual([1, 1, 0])
        yield* Future.setException(b, new OSError({ message: "failed" }))
        yield* settleTest
        expectRunning(waiting, "ALL_COMPLETED with a failure and one future left")
        yield* Future.setResult(a, 1)
        expect(partitionNames({ a, b, c }, yield* Fiber.join(waiting))).toEqual({
          done: ["a", "b", "c"],
          notDone: []
        })
      }).pipe(testDeadline)
    )

    it.effect("returns the partition exactly when the timeout passes, and succeeds", () =>
      Effect.gen(function* () {
        const a = yield* pendingFuture
        const b = yield* successfulFuture
        const waiting = yield* forkNow(Future.wait([a, b], { timeout: "1 second" }))
        yield* settleTest
        yield* TestClock.adjust("999 millis")
        yield* settleTest
        expectRunning(waiting, "wait 1 ms before its timeout")
        yield* TestClock.adjust("1 milli")
        const exit = yield* Fiber.await(waiting)
        expect(Exit.isSuccess(exit)).toBe(true)
        if (Exit.isSuccess(exit)) {
          expect(partitionNames({ a, b }, exit.value)).toEqual({ done: ["b"], notDone: ["a"] })
        }
      }).pipe(testDeadline)
    )

    it.live("returns the current partition at once with a zero timeout", () =>
      Effect.gen(function* () {
        const states = yield* makeStates
        const start = yield* Clock.currentTimeMillis
        const result = yield* Future.wait(Object.values(states), { timeout: 0 })
        expect((yield* Clock.currentTimeMillis) - start).toBeLessThan(1000)
        expect(partitionNames(states, result)).toEqual({
          done: ["CANCELLED_AND_NOTIFIED_FUTURE", "EXCEPTION_FUTURE", "SUCCESSFUL_FUTURE"],
          notDone: ["CANCELLED_FUTURE", "PENDING_FUTURE", "RUNNING_FUTURE"]
        })
      }).pipe(liveDeadline)
    )

    it.effect("wakes on completion without polling: no clock time needs to pass", () =>
      Effect.gen(function* () {
        const a = yield* pendingFuture
        const waiting = yield* forkNow(Future.wait([a]))
        const startedAt = yield* Clock.currentTimeMillis
        yield* settleTest
        yield* Future.setResult(a, 1)
        const result = yield* Fiber.join(waiting)
        expect(result.done.has(a)).toBe(true)
        expect(yield* Clock.currentTimeMillis).toBe(startedAt)
      }).pipe(testDeadline)
    )

    it.live("returns promptly when a future completes, well before a long timeout", () =>
      Effect.gen(function* () {
        const a = yield* pendingFuture
        const b = yield* pendingFuture
        yield* forkNow(Effect.andThen(Effect.sleep("20 millis"), Future.setResult(a, 1)))
        const start = yield* Clock.currentTimeMillis
        const result = yield* Future.wait([a, b], { timeout: "30 seconds", returnWhen: Future.FIRST_COMPLETED })
        const elapsed = (yield* Clock.currentTimeMillis) - start
        expect(partitionNames({ a, b }, result)).toEqual({ done: ["a"], notDone: ["b"] })
        expect(elapsed).toBeLessThan(1000)
      }).pipe(liveDeadline)
    )

    it.effect("removes its waiters when it returns, times out or is interrupted", () =>
      Effect.gen(function* () {
        const a = yield* pendingFuture
        const b = yield* pendingFuture

        const first = yield* forkNow(Future.wait([a, b], { returnWhen: Future.FIRST_COMPLETED }))
        yield* settleTest
        expect([waiterCount(a), waiterCount(b)]).toEqual([1, 1])
        yield* Future.setResult(a, 1)
        yield* Fiber.join(first)
        expect(waiterCount(b)).toBe(0)

        const timed = yield* forkNow(Future.wait([b], { timeout: "1 second" }))
        yield* settleTest
        expect(waiterCount(b)).toBe(1)
        yield* TestClock.adjust("1 second")
        yield* Fiber.join(timed)
        expect(waiterCount(b)).toBe(0)

        const interrupted = yield* forkNow(Future.wait([b]))
        yield* settleTest
        expect(waiterCount(b)).toBe(1)
        yield* Fiber.interrupt(interrupted)
        expect(waiterCount(b)).toBe(0)

        // Completing the future after every wait has gone is fine.
        yield* Future.setResult(b, 2)
        expect(yield* Future.result(b)).toBe(2)
      }).pipe(testDeadline)
    )

    it.effect("dies with IllegalArgumentError for an unknown returnWhen", () =>
      Effect.gen(function* () {
        const a = yield* pendingFuture
        const defect = yield* defectOf(
          Future.wait([a], { returnWhen: "SOMETIMES" as Future.ReturnWhen, timeout: "1 second" })
        )
        expect(Cause.isIllegalArgumentError(defect)).toBe(true)
        expect(String((defect as Error).message)).toContain("returnWhen")
        expect(String((defect as Error).message)).toContain("SOMETIMES")
        expect(waiterCount(a)).toBe(0)
      }).pipe(testDeadline)
    )

    it.effect("dies with IllegalArgumentError for a timeout that is not a duration", () =>
      Effect.gen(function* () {
        const a = yield* pendingFuture
        const defect = yield* defectOf(Future.wait([a], { timeout: "soon" as any }))
        expect(Cause.isIllegalArgumentError(defect)).toBe(true)
        expect(String((defect as Error).message)).toContain("timeout")
      }).pipe(testDeadline)
    )
  })
})
