/**
 * The `Future` state machine and its getters, after CPython's
 * `Lib/test/test_concurrent_futures/test_future.py` (`FutureTests`), plus the
 * Effect-native rows: `Future.await`, `yield* future`, `Future.interrupt` and
 * the dual (pipeable) forms.
 */
import { describe, expect, it } from "@effect/vitest"
import { Cause, Context, Data, Deferred, Effect, Exit, Fiber, Latch, Logger, Option, pipe } from "effect"
import { TestClock } from "effect/testing"
import { CancelledError, Executor, Future, InvalidStateError, ThreadPoolExecutor } from "../src/index.ts"
import {
  ALL_FUTURES,
  CANCELLED_AND_NOTIFIED_FUTURE,
  CANCELLED_FUTURE,
  createFuture,
  EXCEPTION_FUTURE,
  type FixtureName,
  OSError,
  PENDING_FUTURE,
  RUNNING_FUTURE,
  SUCCESSFUL_FUTURE
} from "./fixtures/futures.ts"

/** CPython's `ValueError()`, for `test_multiple_set_exception`. */
class ValueError extends Data.TaggedError("ValueError")<{ readonly message: string }> {}

/** Runs `self` with a logger that keeps each line's text (message and cause), as CPython's `captured_stderr`. */
const withCapturedLogs = <A, E, R>(
  self: (lines: ReadonlyArray<string>) => Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> => {
  const lines: Array<string> = []
  const render = (u: unknown): string => (Cause.isCause(u) ? Cause.pretty(u) : String(u))
  const logger = Logger.make((options) => {
    const message = Array.isArray(options.message) ? options.message : [options.message]
    lines.push(
      [options.logLevel, ...message.map(render), options.cause.reasons.length > 0 ? render(options.cause) : ""].join(
        " "
      )
    )
  })
  return Effect.provideService(self(lines), Logger.CurrentLoggers, new Set([logger]))
}

/** The failure of an effect that is expected to fail with a typed error. */
const failureOf = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<E, A, R> => Effect.flip(self)

/** The defect an exit died with, if any. */
const defectOf = (exit: Exit.Exit<unknown, unknown>): unknown =>
  Exit.isFailure(exit) ? exit.cause.reasons.find(Cause.isDieReason)?.defect : undefined

const fixtureNames = Object.keys(ALL_FUTURES) as ReadonlyArray<FixtureName>

describe("Future", () => {
  describe("done callbacks", () => {
    it.effect(
      "a callback added to a pending future sees the result once it is set (test_done_callback_with_result)",
      () =>
        Effect.gen(function* () {
          let callbackResult: number | undefined
          const f = yield* Future.make<number>()
          yield* Future.addDoneCallback(f, (g) =>
            Effect.map(Future.result(g, { timeout: 0 }), (value) => {
              callbackResult = value
            })
          )
          expect(callbackResult).toBeUndefined()
          yield* Future.setResult(f, 5)
          expect(callbackResult).toBe(5)
        })
    )

    it.effect("a callback sees the exception once it is set (test_done_callback_with_exception)", () =>
      Effect.gen(function* () {
        let callbackException: Option.Option<unknown> | undefined
        const f = yield* Future.make<number, OSError>()
        const error = new OSError({ message: "test" })
        yield* Future.addDoneCallback(f, (g) =>
          Effect.map(Future.exception(g, { timeout: 0 }), (e) => {
            callbackException = e
          })
        )
        yield* Future.setException(f, error)
        expect(callbackException).toEqual(Option.some(error))
        expect(Option.getOrThrow(callbackException!)).toBe(error)
      })
    )

    it.effect("a callback sees the future cancelled when cancel wins (test_done_callback_with_cancel)", () =>
      Effect.gen(function* () {
        let wasCancelled: boolean | undefined
        const f = yield* Future.make<number>()
        yield* Future.addDoneCallback(f, (g) =>
          Effect.map(Future.cancelled(g), (c) => {
            wasCancelled = c
          })
        )
        expect(yield* Future.cancel(f)).toBe(true)
        expect(wasCancelled).toBe(true)
      })
    )

    it.effect(
      "a throwing callback is logged and ignored, and later callbacks still run (test_done_callback_raises)",
      () =>
        withCapturedLogs((lines) =>
          Effect.gen(function* () {
            let raisingWasCalled = false
            let fnWasCalled = false
            const f = yield* Future.make<number>()
            yield* Future.addDoneCallback(f, () => {
              raisingWasCalled = true
              throw new Error("doh!")
            })
            yield* Future.addDoneCallback(f, () => {
              fnWasCalled = true
            })
            yield* Future.setResult(f, 5)
            expect(raisingWasCalled).toBe(true)
            expect(fnWasCalled).toBe(true)
            expect(lines).toHaveLength(1)
            expect(lines[0]).toContain("exception calling callback for")
            expect(lines[0]).toContain("doh!")
            expect(yield* Future.result(f, { timeout: 0 })).toBe(5)
          })
        )
    )

    it.effect("a callback whose Effect fails or dies is logged and ignored, and later callbacks still run", () =>
      withCapturedLogs((lines) =>
        Effect.gen(function* () {
          const ran: Array<string> = []
          const f = yield* Future.make<number>()
          yield* Future.addDoneCallback(f, () =>
            Effect.sync(() => ran.push("fails")).pipe(
              Effect.andThen(Effect.fail(new ValueError({ message: "typed doh!" })))
            )
          )
          yield* Future.addDoneCallback(f, () =>
            Effect.sync(() => ran.push("dies")).pipe(Effect.andThen(Effect.die(new Error("defect doh!"))))
          )
          yield* Future.addDoneCallback(f, () => Effect.sync(() => ran.push("last")))
          yield* Future.setResult(f, 1)
          expect(ran).toEqual(["fails", "dies", "last"])
          expect(lines).toHaveLength(2)
          expect(lines[0]).toContain("exception calling callback for")
          expect(lines[0]).toContain("typed doh!")
          expect(lines[1]).toContain("defect doh!")
        })
      )
    )

    it.effect("a callback added to a successful future runs at once (test_done_callback_already_successful)", () =>
      Effect.gen(function* () {
        let callbackResult: number | undefined
        const f = yield* Future.make<number>()
        yield* Future.setResult(f, 5)
        yield* Future.addDoneCallback(f, (g) =>
          Effect.map(Future.result(g, { timeout: 0 }), (value) => {
            callbackResult = value
          })
        )
        expect(callbackResult).toBe(5)
      })
    )

    it.effect("a callback added to a failed future runs at once (test_done_callback_already_failed)", () =>
      Effect.gen(function* () {
        let callbackException: Option.Option<unknown> | undefined
        const f = yield* Future.make<number, OSError>()
        const error = new OSError({ message: "test" })
        yield* Future.setException(f, error)
        yield* Future.addDoneCallback(f, (g) =>
          Effect.map(Future.exception(g, { timeout: 0 }), (e) => {
            callbackException = e
          })
        )
        expect(callbackException).toEqual(Option.some(error))
      })
    )

    it.effect("a callback added to a cancelled future runs at once (test_done_callback_already_cancelled)", () =>
      Effect.gen(function* () {
        let wasCancelled: boolean | undefined
        const f = yield* Future.make<number>()
        expect(yield* Future.cancel(f)).toBe(true)
        yield* Future.addDoneCallback(f, (g) =>
          Effect.map(Future.cancelled(g), (c) => {
            wasCancelled = c
          })
        )
        expect(wasCancelled).toBe(true)
      })
    )

    it.effect(
      "a throwing callback added to a done future is logged (test_done_callback_raises_already_succeeded)",
      () =>
        withCapturedLogs((lines) =>
          Effect.gen(function* () {
            const f = yield* Future.make<number>()
            yield* Future.setResult(f, 5)
            yield* Future.addDoneCallback(f, () => {
              throw new Error("doh!")
            })
            expect(lines).toHaveLength(1)
            expect(lines[0]).toContain("exception calling callback for")
            expect(lines[0]).toContain("doh!")
          })
        )
    )

    it.effect("callbacks run in the order they were added, each once", () =>
      Effect.gen(function* () {
        const calls: Array<number> = []
        const f = yield* Future.make<number>()
        for (let i = 0; i < 5; i++) {
          yield* Future.addDoneCallback(f, () => {
            calls.push(i)
          })
        }
        yield* Future.setResult(f, 1)
        expect(calls).toEqual([0, 1, 2, 3, 4])
        // Later state changes never run them again.
        expect(yield* Future.cancel(f)).toBe(false)
        yield* Effect.flip(Future.setResult(f, 2))
        expect(calls).toEqual([0, 1, 2, 3, 4])
      })
    )

    it.effect("cancelling runs the callbacks once; notifying the cancel later does not run them again", () =>
      Effect.gen(function* () {
        let calls = 0
        const f = yield* Future.make<number>()
        yield* Future.addDoneCallback(f, () => {
          calls++
        })
        expect(yield* Future.cancel(f)).toBe(true)
        expect(yield* Future.cancel(f)).toBe(true)
        expect(yield* Future.setRunningOrNotifyCancel(f)).toBe(false)
        expect(yield* Future.cancel(f)).toBe(true)
        expect(calls).toBe(1)
      })
    )

    it.effect("a callback sees the future already done when it runs", () =>
      Effect.gen(function* () {
        const seen: Array<[Future.State, boolean]> = []
        const f = yield* Future.make<number>()
        yield* Future.addDoneCallback(f, (g) =>
          Effect.gen(function* () {
            seen.push([yield* Future.state(g), yield* Future.done(g)])
          })
        )
        yield* Future.setRunningOrNotifyCancel(f)
        expect(seen).toEqual([])
        yield* Future.setResult(f, 1)
        expect(seen).toEqual([["FINISHED", true]])
      })
    )

    it.effect("a callback added from inside a callback runs at once", () =>
      Effect.gen(function* () {
        const calls: Array<string> = []
        const f = yield* Future.make<number>()
        yield* Future.addDoneCallback(f, (g) =>
          Effect.andThen(
            Effect.sync(() => calls.push("outer")),
            Future.addDoneCallback(g, () => {
              calls.push("inner")
            })
          )
        )
        yield* Future.addDoneCallback(f, () => {
          calls.push("second")
        })
        yield* Future.setResult(f, 1)
        expect(calls).toEqual(["outer", "inner", "second"])
      })
    )

    it.effect("an Effect callback runs with the services of the fiber that added it", () =>
      Effect.gen(function* () {
        class Greeting extends Context.Service<Greeting, string>()("test/Greeting") {}
        const heard: Array<string> = []
        const f = yield* Future.make<number>()
        yield* Future.addDoneCallback(f, () => Effect.map(Greeting, (g) => heard.push(g))).pipe(
          Effect.provideService(Greeting, "hello")
        )
        yield* Future.setResult(f, 1)
        expect(heard).toEqual(["hello"])
      })
    )

    it.effect("addDoneCallback works data-last through pipe", () =>
      Effect.gen(function* () {
        let seen: Future.Future<number> | undefined
        const f = yield* Future.make<number>()
        yield* pipe(
          f,
          Future.addDoneCallback((g) => {
            seen = g
          })
        )
        yield* Future.setResult(f, 1)
        expect(seen).toBe(f)
      })
    )
  })

  describe("toString (test_repr)", () => {
    it.effect("shows the state the way Python's repr does", () =>
      Effect.gen(function* () {
        expect(String(yield* PENDING_FUTURE)).toMatch(/^<Future #\d+ state=pending>$/)
        expect(String(yield* RUNNING_FUTURE)).toMatch(/^<Future #\d+ state=running>$/)
        expect(String(yield* CANCELLED_FUTURE)).toMatch(/^<Future #\d+ state=cancelled>$/)
        expect(String(yield* CANCELLED_AND_NOTIFIED_FUTURE)).toMatch(/^<Future #\d+ state=cancelled>$/)
        expect(String(yield* SUCCESSFUL_FUTURE)).toMatch(/^<Future #\d+ state=finished returned number>$/)
      })
    )

    it.effect("names the error type of a failed future, as Python's `raised OSError`", () =>
      Effect.gen(function* () {
        expect(String(yield* EXCEPTION_FUTURE)).toMatch(/^<Future #\d+ state=finished raised OSError>$/)
      })
    )

    it.effect("gives each future its own number", () =>
      Effect.gen(function* () {
        const a = yield* Future.make()
        const b = yield* Future.make()
        const number = (f: unknown) => Number(/#(\d+)/.exec(String(f))![1])
        expect(number(a)).not.toBe(number(b))
      })
    )

    it.effect("toJSON carries the id and the state", () =>
      Effect.gen(function* () {
        const f = yield* RUNNING_FUTURE
        expect(JSON.parse(JSON.stringify(f))).toEqual({ _id: "Future", id: expect.any(Number), state: "RUNNING" })
      })
    )
  })

  describe("getters", () => {
    it.effect("cancel returns true and leaves the state as CPython does on each state (test_cancel)", () =>
      Effect.gen(function* () {
        const f1 = yield* createFuture({ state: "PENDING" })
        const f2 = yield* createFuture({ state: "RUNNING" })
        const f3 = yield* createFuture({ state: "CANCELLED" })
        const f4 = yield* createFuture({ state: "CANCELLED_AND_NOTIFIED" })
        const f5 = yield* createFuture({ state: "FINISHED", exception: new OSError({ message: "" }) })
        const f6 = yield* createFuture({ state: "FINISHED", result: 5 })

        expect(yield* Future.cancel(f1)).toBe(true)
        expect(yield* Future.state(f1)).toBe("CANCELLED")

        expect(yield* Future.cancel(f2)).toBe(false)
        expect(yield* Future.state(f2)).toBe("RUNNING")

        expect(yield* Future.cancel(f3)).toBe(true)
        expect(yield* Future.state(f3)).toBe("CANCELLED")

        expect(yield* Future.cancel(f4)).toBe(true)
        expect(yield* Future.state(f4)).toBe("CANCELLED_AND_NOTIFIED")

        expect(yield* Future.cancel(f5)).toBe(false)
        expect(yield* Future.state(f5)).toBe("FINISHED")

        expect(yield* Future.cancel(f6)).toBe(false)
        expect(yield* Future.state(f6)).toBe("FINISHED")
      })
    )

    const table: Record<FixtureName, { cancelled: boolean; done: boolean; running: boolean; state: Future.State }> = {
      PENDING_FUTURE: { cancelled: false, done: false, running: false, state: "PENDING" },
      RUNNING_FUTURE: { cancelled: false, done: false, running: true, state: "RUNNING" },
      CANCELLED_FUTURE: { cancelled: true, done: true, running: false, state: "CANCELLED" },
      CANCELLED_AND_NOTIFIED_FUTURE: { cancelled: true, done: true, running: false, state: "CANCELLED_AND_NOTIFIED" },
      EXCEPTION_FUTURE: { cancelled: false, done: true, running: false, state: "FINISHED" },
      SUCCESSFUL_FUTURE: { cancelled: false, done: true, running: false, state: "FINISHED" }
    }

    it.effect.each(fixtureNames)("cancelled, done, running and state agree with CPython for %s", (name) =>
      Effect.gen(function* () {
        const f = yield* ALL_FUTURES[name]
        const expected = table[name]
        expect(yield* Future.cancelled(f)).toBe(expected.cancelled) // test_cancelled
        expect(yield* Future.done(f)).toBe(expected.done) // test_done
        expect(yield* Future.running(f)).toBe(expected.running) // test_running
        expect(yield* Future.state(f)).toBe(expected.state)
      })
    )

    it.effect("make gives a pending future that isFuture recognises", () =>
      Effect.gen(function* () {
        const f = yield* Future.make<string>()
        expect(Future.isFuture(f)).toBe(true)
        expect(Future.isFuture({ state: "PENDING" })).toBe(false)
        expect(Future.isFuture(Effect.succeed(1))).toBe(false)
        expect(yield* Future.state(f)).toBe("PENDING")
        expect(yield* Future.state(Future.makeUnsafe<string>())).toBe("PENDING")
      })
    )
  })

  describe("result", () => {
    it.live(
      "with a zero timeout: times out, fails cancelled, fails, or returns, by state (test_result_with_timeout)",
      () =>
        Effect.gen(function* () {
          const timeout = { timeout: 0 }
          const pending = yield* failureOf(Future.result(yield* PENDING_FUTURE, timeout))
          expect(Cause.isTimeoutError(pending)).toBe(true)
          const running = yield* failureOf(Future.result(yield* RUNNING_FUTURE, timeout))
          expect(Cause.isTimeoutError(running)).toBe(true)
          expect(yield* failureOf(Future.result(yield* CANCELLED_FUTURE, timeout))).toBeInstanceOf(CancelledError)
          expect(yield* failureOf(Future.result(yield* CANCELLED_AND_NOTIFIED_FUTURE, timeout))).toBeInstanceOf(
            CancelledError
          )
          expect(yield* failureOf(Future.result(yield* EXCEPTION_FUTURE, timeout))).toBeInstanceOf(OSError)
          expect(yield* Future.result(yield* SUCCESSFUL_FUTURE, timeout)).toBe(42)
        })
    )

    it.effect("times out after the given duration on the clock, and leaves the future pending", () =>
      Effect.gen(function* () {
        const f = yield* PENDING_FUTURE
        const waiter = yield* Effect.forkChild(Future.result(f, { timeout: "1 second" }), { startImmediately: true })
        yield* TestClock.adjust("999 millis")
        expect(waiter.pollUnsafe()).toBeUndefined()
        yield* TestClock.adjust("1 milli")
        const exit = yield* Fiber.await(waiter)
        expect(Exit.isFailure(exit) && Cause.isTimeoutError(Cause.squash(exit.cause))).toBe(true)
        expect(yield* Future.state(f)).toBe("PENDING")
        // The timed-out waiter left: the future still completes normally.
        yield* Future.setResult(f, 7)
        expect(yield* Future.result(f, { timeout: 0 })).toBe(7)
      })
    )

    it.live("a waiting caller gets the result set by another fiber (test_result_with_success)", () =>
      Effect.gen(function* () {
        const f1 = yield* PENDING_FUTURE
        const waiter = yield* Effect.forkChild(Future.result(f1, { timeout: "2 seconds" }), { startImmediately: true })
        expect(waiter.pollUnsafe()).toBeUndefined()
        yield* Effect.forkChild(Future.setResult(f1, 42))
        expect(yield* Fiber.join(waiter)).toBe(42)
      })
    )

    it.live("a waiting caller fails with CancelledError when another fiber cancels (test_result_with_cancel)", () =>
      Effect.gen(function* () {
        const f1 = yield* PENDING_FUTURE
        const waiter = yield* Effect.forkChild(Future.result(f1, { timeout: "2 seconds" }), { startImmediately: true })
        expect(waiter.pollUnsafe()).toBeUndefined()
        yield* Effect.forkChild(Future.cancel(f1))
        const error = yield* Effect.flip(Fiber.join(waiter))
        expect(error).toBeInstanceOf(CancelledError)
        expect(error._tag).toBe("CancelledError")
      })
    )

    it.live("every waiting caller is woken, and an interrupted waiter does not disturb the others", () =>
      Effect.gen(function* () {
        const f = yield* RUNNING_FUTURE
        const options = { timeout: "2 seconds" } as const
        const a = yield* Effect.forkChild(Future.result(f, options), { startImmediately: true })
        const b = yield* Effect.forkChild(Future.result(f, options), { startImmediately: true })
        const c = yield* Effect.forkChild(Future.await(f), { startImmediately: true })
        yield* Fiber.interrupt(b)
        expect(yield* Future.state(f)).toBe("RUNNING")
        yield* Future.setResult(f, 3)
        expect(yield* Fiber.join(a)).toBe(3)
        expect(yield* Fiber.join(c).pipe(Effect.timeout("2 seconds"))).toEqual(Exit.succeed(3))
      })
    )

    it.effect("a defect stays a defect, the same error with its stack", () =>
      Effect.gen(function* () {
        const boom = new Error("boom")
        const f = yield* Future.make<number>()
        yield* Future.setExit(f, Exit.die(boom))
        expect(yield* Future.state(f)).toBe("FINISHED")
        const exit = yield* Effect.exit(Future.result(f, { timeout: 0 }))
        expect(Exit.hasDies(exit)).toBe(true)
        expect(defectOf(exit)).toBe(boom)
        expect((defectOf(exit) as Error).stack).toBe(boom.stack)
      })
    )

    it.effect("a typed failure fails result with the same error, catchable by tag", () =>
      Effect.gen(function* () {
        const f = yield* EXCEPTION_FUTURE
        const caught = yield* Future.result(f, { timeout: 0 }).pipe(
          Effect.catchTag("OSError", (e) => Effect.succeed(`caught ${e.message}`))
        )
        expect(caught).toBe("caught exception future")
      })
    )

    it.effect("an invalid timeout is a defect carrying IllegalArgumentError that names the option", () =>
      Effect.gen(function* () {
        const f = yield* SUCCESSFUL_FUTURE
        for (const timeout of [-1, Number.NaN, "banana" as any, "-5 seconds" as any]) {
          const exit = yield* Effect.exit(Future.result(f, { timeout }))
          const defect = defectOf(exit)
          expect(Cause.isIllegalArgumentError(defect)).toBe(true)
          expect((defect as Error).message).toMatch(/^timeout must be/)
        }
        const exit = yield* Effect.exit(Future.exception(f, { timeout: -1 }))
        expect(Cause.isIllegalArgumentError(defectOf(exit))).toBe(true)
      })
    )

    it.effect("works data-first and data-last through pipe", () =>
      Effect.gen(function* () {
        const f = yield* SUCCESSFUL_FUTURE
        expect(yield* pipe(f, Future.result({ timeout: "1 second" }))).toBe(42)
        expect(yield* f.pipe(Future.result({ timeout: 0 }))).toBe(42)
        expect(yield* Future.result(f)).toBe(42)
        expect(yield* Future.result(f, {})).toBe(42)
      })
    )

    it.effect("data-last with a timeout still times out", () =>
      Effect.gen(function* () {
        const f = yield* PENDING_FUTURE
        const waiter = yield* Effect.forkChild(pipe(f, Future.result({ timeout: "1 second" })), {
          startImmediately: true
        })
        yield* TestClock.adjust("1 second")
        const exit = yield* Fiber.await(waiter)
        expect(Exit.isFailure(exit) && Cause.isTimeoutError(Cause.squash(exit.cause))).toBe(true)
      })
    )
  })

  describe("exception", () => {
    it.live(
      "with a zero timeout: times out, fails cancelled, or returns the error, by state (test_exception_with_timeout)",
      () =>
        Effect.gen(function* () {
          const timeout = { timeout: 0 }
          expect(Cause.isTimeoutError(yield* failureOf(Future.exception(yield* PENDING_FUTURE, timeout)))).toBe(true)
          expect(Cause.isTimeoutError(yield* failureOf(Future.exception(yield* RUNNING_FUTURE, timeout)))).toBe(true)
          expect(yield* failureOf(Future.exception(yield* CANCELLED_FUTURE, timeout))).toBeInstanceOf(CancelledError)
          expect(yield* failureOf(Future.exception(yield* CANCELLED_AND_NOTIFIED_FUTURE, timeout))).toBeInstanceOf(
            CancelledError
          )
          const failed = yield* Future.exception(yield* EXCEPTION_FUTURE, timeout)
          expect(Option.isSome(failed) && failed.value instanceof OSError).toBe(true)
          expect(yield* Future.exception(yield* SUCCESSFUL_FUTURE, timeout)).toEqual(Option.none())
        })
    )

    it.live("a waiting caller gets the exception set by another fiber (test_exception_with_success)", () =>
      Effect.gen(function* () {
        const f1 = yield* PENDING_FUTURE
        const error = new OSError({ message: "later" })
        const waiter = yield* Effect.forkChild(Future.exception(f1, { timeout: "2 seconds" }), {
          startImmediately: true
        })
        expect(waiter.pollUnsafe()).toBeUndefined()
        yield* Effect.forkChild(Future.setException(f1, error))
        const out = yield* Fiber.join(waiter)
        expect(Option.isSome(out) && out.value).toBe(error)
      })
    )

    it.live("a waiting caller fails with CancelledError when another fiber cancels (test_exception_with_cancel)", () =>
      Effect.gen(function* () {
        const f1 = yield* PENDING_FUTURE
        const waiter = yield* Effect.forkChild(Future.exception(f1, { timeout: "2 seconds" }), {
          startImmediately: true
        })
        yield* Effect.forkChild(Future.cancel(f1))
        expect(yield* Effect.flip(Fiber.join(waiter))).toBeInstanceOf(CancelledError)
      })
    )

    it.effect("returns the defect of a future that died", () =>
      Effect.gen(function* () {
        const boom = new Error("boom")
        const f = yield* Future.make<number>()
        yield* Future.setExit(f, Exit.die(boom))
        expect(yield* Future.exception(f, { timeout: 0 })).toEqual(Option.some(boom))
      })
    )

    it.effect("works data-last through pipe", () =>
      Effect.gen(function* () {
        const f = yield* EXCEPTION_FUTURE
        const out = yield* pipe(f, Future.exception({ timeout: "1 second" }))
        expect(Option.isSome(out) && out.value instanceof OSError).toBe(true)
        expect(yield* pipe(yield* SUCCESSFUL_FUTURE, Future.exception({ timeout: 0 }))).toEqual(Option.none())
      })
    )
  })

  describe("setting results", () => {
    it.effect(
      "a second setResult fails with InvalidStateError naming the state, the first result stays (test_multiple_set_result)",
      () =>
        Effect.gen(function* () {
          const f = yield* PENDING_FUTURE
          yield* Future.setResult(f, 1)
          const error = yield* Effect.flip(Future.setResult(f, 2))
          expect(error).toBeInstanceOf(InvalidStateError)
          expect(error.message).toMatch(/FINISHED: <Future #\d+ state=finished returned number>/)
          expect(yield* Future.done(f)).toBe(true)
          expect(yield* Future.result(f, { timeout: 0 })).toBe(1)
        })
    )

    it.effect(
      "a second setException fails with InvalidStateError naming the error type, the first stays (test_multiple_set_exception)",
      () =>
        Effect.gen(function* () {
          const f = yield* Future.make<number, ValueError | OSError>()
          const e = new ValueError({ message: "first" })
          yield* Future.setException(f, e)
          const error = yield* Effect.flip(Future.setException(f, new OSError({ message: "second" })))
          expect(error).toBeInstanceOf(InvalidStateError)
          expect(error.message).toMatch(/FINISHED: <Future #\d+ state=finished raised ValueError>/)
          const out = yield* Future.exception(f, { timeout: 0 })
          expect(Option.isSome(out) && out.value).toBe(e)
        })
    )

    const settable: Record<FixtureName, boolean> = {
      PENDING_FUTURE: true,
      RUNNING_FUTURE: true,
      CANCELLED_FUTURE: false,
      CANCELLED_AND_NOTIFIED_FUTURE: false,
      EXCEPTION_FUTURE: false,
      SUCCESSFUL_FUTURE: false
    }

    it.effect.each(fixtureNames)("setResult and setException succeed only while not done, on %s", (name) =>
      Effect.gen(function* () {
        for (const set of [
          (f: Future.Future<number, OSError>) => Future.setResult(f, 7),
          (f: Future.Future<number, OSError>) => Future.setException(f, new OSError({ message: "late" }))
        ]) {
          const f = yield* ALL_FUTURES[name]
          const before = yield* Future.state(f)
          const exit = yield* Effect.exit(set(f))
          if (settable[name]) {
            expect(exit).toEqual(Exit.void)
            expect(yield* Future.state(f)).toBe("FINISHED")
          } else {
            expect(Exit.isFailure(exit)).toBe(true)
            const error = Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined
            expect(error).toBeInstanceOf(InvalidStateError)
            expect((error as InvalidStateError).message).toContain(`${before}: <Future #`)
            expect(yield* Future.state(f)).toBe(before)
          }
        }
      })
    )

    const notify: Record<FixtureName, { out: boolean | "InvalidStateError"; after: Future.State }> = {
      PENDING_FUTURE: { out: true, after: "RUNNING" },
      RUNNING_FUTURE: { out: "InvalidStateError", after: "RUNNING" },
      CANCELLED_FUTURE: { out: false, after: "CANCELLED_AND_NOTIFIED" },
      CANCELLED_AND_NOTIFIED_FUTURE: { out: "InvalidStateError", after: "CANCELLED_AND_NOTIFIED" },
      EXCEPTION_FUTURE: { out: "InvalidStateError", after: "FINISHED" },
      SUCCESSFUL_FUTURE: { out: "InvalidStateError", after: "FINISHED" }
    }

    it.effect.each(fixtureNames)("setRunningOrNotifyCancel on %s answers as CPython's", (name) =>
      Effect.gen(function* () {
        const f = yield* ALL_FUTURES[name]
        const expected = notify[name]
        const out = yield* Effect.result(Future.setRunningOrNotifyCancel(f))
        if (expected.out === "InvalidStateError") {
          expect(out._tag).toBe("Failure")
          expect(out._tag === "Failure" && out.failure).toBeInstanceOf(InvalidStateError)
        } else {
          expect(out._tag === "Success" && out.success).toBe(expected.out)
        }
        expect(yield* Future.state(f)).toBe(expected.after)
      })
    )

    it.effect("setResult and setException work data-last through pipe", () =>
      Effect.gen(function* () {
        const a = yield* Future.make<number, OSError>()
        yield* pipe(a, Future.setResult(9))
        expect(yield* Future.result(a, { timeout: 0 })).toBe(9)
        const b = yield* Future.make<number, OSError>()
        const error = new OSError({ message: "piped" })
        yield* pipe(b, Future.setException(error))
        expect(yield* Effect.flip(Future.result(b, { timeout: 0 }))).toBe(error)
        const c = yield* Future.make<number, OSError>()
        // Data-last, E cannot be inferred from the exit alone, so it is given.
        yield* pipe(c, Future.setExit<number, OSError>(Exit.succeed(3)))
        expect(yield* Future.result(c, { timeout: 0 })).toBe(3)
      })
    )
  })

  describe("await and yield*", () => {
    it.effect("Future.await returns how the future ended as an Exit, never failing", () =>
      Effect.gen(function* () {
        expect(yield* Future.await(yield* SUCCESSFUL_FUTURE)).toEqual(Exit.succeed(42))
        const failed = yield* Future.await(yield* EXCEPTION_FUTURE)
        expect(Exit.isFailure(failed) && Cause.squash(failed.cause)).toBeInstanceOf(OSError)
        for (const make of [CANCELLED_FUTURE, CANCELLED_AND_NOTIFIED_FUTURE]) {
          const cancelled = yield* Future.await(yield* make)
          expect(Exit.isFailure(cancelled) && Cause.squash(cancelled.cause)).toBeInstanceOf(CancelledError)
        }
      })
    )

    it.live("Future.await waits for a pending future", () =>
      Effect.gen(function* () {
        const f = yield* PENDING_FUTURE
        const waiter = yield* Effect.forkChild(Future.await(f).pipe(Effect.timeout("2 seconds")), {
          startImmediately: true
        })
        expect(waiter.pollUnsafe()).toBeUndefined()
        yield* Future.setException(f, new OSError({ message: "late" }))
        const exit = yield* Fiber.join(waiter)
        expect(Exit.isFailure(exit) && Cause.squash(exit.cause)).toBeInstanceOf(OSError)
      })
    )

    it.effect("yield* future inside Effect.gen gives the result, the typed error or CancelledError", () =>
      Effect.gen(function* () {
        const ok = yield* SUCCESSFUL_FUTURE
        expect(yield* ok).toBe(42)
        const failed = yield* EXCEPTION_FUTURE
        const error = yield* Effect.flip(
          Effect.gen(function* () {
            return yield* failed
          })
        )
        expect(error).toBeInstanceOf(OSError)
        const cancelled = yield* CANCELLED_FUTURE
        const cancelError = yield* Effect.flip(
          Effect.gen(function* () {
            return yield* cancelled
          })
        )
        expect(cancelError).toBeInstanceOf(CancelledError)
        // A future can be yielded more than once.
        expect(yield* ok).toBe(42)
      })
    )

    it.live("yield* future waits for a pending future", () =>
      Effect.gen(function* () {
        const f = yield* PENDING_FUTURE
        const waiter = yield* Effect.forkChild(
          Effect.gen(function* () {
            return (yield* f) + 1
          }).pipe(Effect.timeout("2 seconds")),
          { startImmediately: true }
        )
        yield* Future.setResult(f, 1)
        expect(yield* Fiber.join(waiter)).toBe(2)
      })
    )
  })

  describe("interrupt", () => {
    const threadPool = ThreadPoolExecutor.layer({ maxWorkers: 1 })

    it.live("stops a running thread-pool task: returns true and the future ends CANCELLED_AND_NOTIFIED", () =>
      Effect.gen(function* () {
        const started = yield* Deferred.make<void>()
        let finalized = false
        const f = yield* Executor.submit(
          Deferred.succeed(started, undefined).pipe(
            Effect.andThen(Effect.never),
            Effect.onInterrupt(() =>
              Effect.sync(() => {
                finalized = true
              })
            )
          )
        )
        yield* Deferred.await(started).pipe(Effect.timeout("2 seconds"))
        expect(yield* Future.running(f)).toBe(true)
        const seen: Array<Future.State> = []
        yield* Future.addDoneCallback(f, (g) => Effect.map(Future.state(g), (s) => seen.push(s)))

        expect(yield* Future.interrupt(f).pipe(Effect.timeout("2 seconds"))).toBe(true)

        // It waited for the task to stop, and callbacks have run.
        expect(finalized).toBe(true)
        expect(seen).toEqual(["CANCELLED_AND_NOTIFIED"])
        expect(yield* Future.state(f)).toBe("CANCELLED_AND_NOTIFIED")
        expect(yield* Future.cancelled(f)).toBe(true)
        expect(yield* Effect.flip(Future.result(f, { timeout: "2 seconds" }))).toBeInstanceOf(CancelledError)
        const { done } = yield* Future.wait([f], { timeout: "2 seconds" })
        expect(done.has(f)).toBe(true)
        // The worker is free again.
        const next = yield* Executor.submit(() => "next")
        expect(yield* Future.result(next, { timeout: "2 seconds" })).toBe("next")
      }).pipe(Effect.provide(threadPool))
    )

    it.live("cancels a thread-pool task still queued: it never runs and is notified when its turn comes", () =>
      Effect.gen(function* () {
        const release = yield* Latch.make(false)
        let ran = false
        const blocker = yield* Executor.submit(release.await)
        const queued = yield* Executor.submit(() => {
          ran = true
        })
        expect(yield* Future.state(queued)).toBe("PENDING")
        expect(yield* Future.interrupt(queued)).toBe(true)
        expect(yield* Future.state(queued)).toBe("CANCELLED")
        yield* release.open
        yield* Future.result(blocker, { timeout: "2 seconds" })
        const { done } = yield* Future.wait([queued], { timeout: "2 seconds" })
        expect(done.has(queued)).toBe(true)
        expect(yield* Future.state(queued)).toBe("CANCELLED_AND_NOTIFIED")
        expect(ran).toBe(false)
      }).pipe(Effect.provide(threadPool))
    )

    it.effect("cancels a pending bare future: returns true and the future is CANCELLED", () =>
      Effect.gen(function* () {
        const f = yield* PENDING_FUTURE
        let calls = 0
        yield* Future.addDoneCallback(f, () => {
          calls++
        })
        expect(yield* Future.interrupt(f)).toBe(true)
        expect(yield* Future.state(f)).toBe("CANCELLED")
        expect(calls).toBe(1)
        expect(yield* Effect.flip(Future.result(f, { timeout: 0 }))).toBeInstanceOf(CancelledError)
      })
    )

    it.effect.each(["EXCEPTION_FUTURE", "SUCCESSFUL_FUTURE"] as const)(
      "returns false on a finished future and leaves it FINISHED (%s)",
      (name) =>
        Effect.gen(function* () {
          const f = yield* ALL_FUTURES[name]
          expect(yield* Future.interrupt(f)).toBe(false)
          expect(yield* Future.state(f)).toBe("FINISHED")
        })
    )

    it.effect("returns true on an already cancelled future and leaves its state", () =>
      Effect.gen(function* () {
        const a = yield* CANCELLED_FUTURE
        const b = yield* CANCELLED_AND_NOTIFIED_FUTURE
        expect(yield* Future.interrupt(a)).toBe(true)
        expect(yield* Future.interrupt(b)).toBe(true)
        expect(yield* Future.state(a)).toBe("CANCELLED")
        expect(yield* Future.state(b)).toBe("CANCELLED_AND_NOTIFIED")
      })
    )

    it.effect("returns false on a running bare future, which nothing can stop", () =>
      Effect.gen(function* () {
        const f = yield* RUNNING_FUTURE
        expect(yield* Future.interrupt(f)).toBe(false)
        expect(yield* Future.state(f)).toBe("RUNNING")
      })
    )

    it.live("returns false on a thread-pool task that finished by itself", () =>
      Effect.gen(function* () {
        const f = yield* Executor.submit(() => 1)
        expect(yield* Future.result(f, { timeout: "2 seconds" })).toBe(1)
        expect(yield* Future.interrupt(f)).toBe(false)
        expect(yield* Future.state(f)).toBe("FINISHED")
        expect(yield* Future.result(f, { timeout: "2 seconds" })).toBe(1)
      }).pipe(Effect.provide(threadPool))
    )

    it.live("returns false when the task's cleanup fails while it stops; the future keeps that failure", () =>
      Effect.gen(function* () {
        const started = yield* Deferred.make<void>()
        const cleanupFailed = new Error("cleanup failed")
        const f = yield* Executor.submit(
          Deferred.succeed(started, undefined).pipe(
            Effect.andThen(Effect.never),
            Effect.onInterrupt(() => Effect.die(cleanupFailed))
          )
        )
        yield* Deferred.await(started).pipe(Effect.timeout("2 seconds"))
        expect(yield* Future.interrupt(f).pipe(Effect.timeout("2 seconds"))).toBe(false)
        expect(yield* Future.state(f)).toBe("FINISHED")
        expect(yield* Future.cancelled(f)).toBe(false)
        const exit = yield* Effect.exit(Future.result(f, { timeout: "2 seconds" }))
        expect(defectOf(exit)).toBe(cleanupFailed)
      }).pipe(Effect.provide(threadPool))
    )

    it.live(
      "waits for an uninterruptible task to reach its end, then reports it cancelled as Fiber.interrupt does",
      () =>
        Effect.gen(function* () {
          const started = yield* Deferred.make<void>()
          const release = yield* Latch.make(false)
          let finished = false
          const f = yield* Executor.submit(
            Effect.uninterruptible(
              Deferred.succeed(started, undefined).pipe(
                Effect.andThen(release.await),
                Effect.andThen(
                  Effect.sync(() => {
                    finished = true
                  })
                )
              )
            )
          )
          yield* Deferred.await(started).pipe(Effect.timeout("2 seconds"))
          const interrupting = yield* Effect.forkChild(Future.interrupt(f).pipe(Effect.timeout("2 seconds")), {
            startImmediately: true
          })
          // Give the interrupt every chance to return early: it must not while the task runs.
          yield* Effect.sleep("20 millis")
          expect(interrupting.pollUnsafe()).toBeUndefined()
          expect(yield* Future.state(f)).toBe("RUNNING")
          yield* release.open
          const out = yield* Fiber.join(interrupting)
          expect(finished).toBe(true)
          // The task's fiber ends interrupted once it leaves the uninterruptible region, so the future is cancelled.
          expect(out).toBe(true)
          expect(yield* Future.state(f)).toBe("CANCELLED_AND_NOTIFIED")
        }).pipe(Effect.provide(threadPool))
    )
  })
})
