/**
 * Shutting a thread pool down: what CPython's `test_shutdown.py` checks
 * (`ExecutorShutdownTest`, `ThreadPoolShutdownTest`), with the layer's scope
 * standing for `with executor:`, and what an interrupted scope adds.
 */
import { describe, expect, it } from "@effect/vitest"
import { Context, Deferred, Effect, Exit, Fiber, Latch, Layer, Scope, Stream } from "effect"
import { CancelledError, Executor, Future, ThreadPoolExecutor } from "../src/index.ts"

/** Every wait is bounded, so a deadlock fails fast. */
const timeout = "5 seconds"

const withPool = <A, E>(
  body: Effect.Effect<A, E, Executor.Executor>,
  options: ThreadPoolExecutor.Options = {}
): Effect.Effect<A, unknown> =>
  body.pipe(Effect.provide(ThreadPoolExecutor.layer(options)), Effect.timeout("10 seconds"))

/** Lets every runnable fiber run before looking. */
const settle = Effect.gen(function* () {
  for (let i = 0; i < 10; i++) yield* Effect.yieldNow
  yield* Effect.promise(() => new Promise((resolve) => setImmediate(resolve)))
})

/** `n` tasks that return their index once `gate` opens. */
const submitGated = (gate: Latch.Latch, n: number) =>
  Effect.forEach(
    Array.from({ length: n }, (_, i) => i),
    (i) => Executor.submit(Effect.as(gate.await, i))
  )

const states = <A, E>(futures: ReadonlyArray<Future.Future<A, E>>) => Effect.forEach(futures, Future.state)

const results = <A, E>(futures: ReadonlyArray<Future.Future<A, E>>) =>
  Effect.forEach(futures, (f) => Future.result(f, { timeout }))

/** A pool in a scope of the test's own, as Python's `executor = ThreadPoolExecutor(...)` before `with`. */
const openPool = (options: ThreadPoolExecutor.Options) =>
  Effect.gen(function* () {
    const scope = yield* Scope.make()
    const context = yield* Layer.buildWithScope(ThreadPoolExecutor.layer(options), scope)
    return { scope, executor: Context.get(context, Executor.Executor) }
  })

describe("ThreadPoolExecutor shutdown", () => {
  it.live("shutdown({ wait: true }) returns only after running and queued tasks finish", () =>
    withPool(
      Effect.gen(function* () {
        const gate = yield* Latch.make(false)
        const futures = yield* submitGated(gate, 6)
        const shutdown = yield* Effect.forkChild(Executor.shutdown({ wait: true }), { startImmediately: true })
        yield* settle
        expect(shutdown.pollUnsafe()).toBeUndefined()
        expect(yield* states(futures)).toEqual(["RUNNING", "RUNNING", "PENDING", "PENDING", "PENDING", "PENDING"])
        yield* gate.open
        yield* Fiber.join(shutdown).pipe(Effect.timeout(timeout))
        expect(yield* states(futures)).toEqual(Array(6).fill("FINISHED"))
        expect(yield* results(futures)).toEqual([0, 1, 2, 3, 4, 5])
      }),
      { maxWorkers: 2 }
    )
  )

  it.live("shutdown({ wait: false }) returns at once and the tasks still complete", () =>
    withPool(
      Effect.gen(function* () {
        const gate = yield* Latch.make(false)
        const futures = yield* submitGated(gate, 6)
        yield* Executor.shutdown({ wait: false }).pipe(Effect.timeout("1 second"))
        expect(yield* states(futures)).toEqual(["RUNNING", "RUNNING", "PENDING", "PENDING", "PENDING", "PENDING"])
        yield* gate.open
        expect(yield* results(futures)).toEqual([0, 1, 2, 3, 4, 5])
      }),
      { maxWorkers: 2 }
    )
  )

  it.live("cancelFutures cancels the pending futures and never the running ones", () =>
    withPool(
      Effect.gen(function* () {
        const gate = yield* Latch.make(false)
        const futures = yield* submitGated(gate, 8)
        const running = futures.slice(0, 2)
        const pending = futures.slice(2)
        const called: Array<number> = []
        yield* Effect.forEach(pending, (f, i) => Future.addDoneCallback(f, () => void called.push(i + 2)))
        yield* Executor.shutdown({ wait: false, cancelFutures: true }).pipe(Effect.timeout("1 second"))
        // CANCELLED_AND_NOTIFIED: nothing will pick them up, so `wait` sees them done at once.
        expect(yield* states(pending)).toEqual(Array(6).fill("CANCELLED_AND_NOTIFIED"))
        expect(called).toEqual([2, 3, 4, 5, 6, 7])
        expect(yield* states(running)).toEqual(["RUNNING", "RUNNING"])
        const { done, notDone } = yield* Future.wait(futures, { timeout: 50 })
        expect(done).toEqual(new Set(pending))
        expect(notDone).toEqual(new Set(running))
        for (const f of pending)
          expect(yield* Effect.flip(Future.result(f, { timeout }))).toBeInstanceOf(CancelledError)
        yield* gate.open
        expect(yield* results(running)).toEqual([0, 1])
      }),
      { maxWorkers: 2 }
    )
  )

  it.live("cancelFutures with wait cancels the pending futures, then waits for the running ones", () =>
    withPool(
      Effect.gen(function* () {
        const gate = yield* Latch.make(false)
        const futures = yield* submitGated(gate, 5)
        const shutdown = yield* Effect.forkChild(Executor.shutdown({ cancelFutures: true }), {
          startImmediately: true
        })
        yield* settle
        expect(shutdown.pollUnsafe()).toBeUndefined()
        expect(yield* states(futures)).toEqual([
          "RUNNING",
          "RUNNING",
          "CANCELLED_AND_NOTIFIED",
          "CANCELLED_AND_NOTIFIED",
          "CANCELLED_AND_NOTIFIED"
        ])
        yield* gate.open
        yield* Fiber.join(shutdown).pipe(Effect.timeout(timeout))
        expect(yield* states(futures.slice(0, 2))).toEqual(["FINISHED", "FINISHED"])
      }),
      { maxWorkers: 2 }
    )
  )

  it.live("two concurrent shutdowns both wait for the tasks and both return", () =>
    withPool(
      Effect.gen(function* () {
        const gate = yield* Latch.make(false)
        const futures = yield* submitGated(gate, 3)
        const first = yield* Effect.forkChild(Executor.shutdown(), { startImmediately: true })
        const second = yield* Effect.forkChild(Executor.shutdown(), { startImmediately: true })
        yield* settle
        expect(first.pollUnsafe()).toBeUndefined()
        expect(second.pollUnsafe()).toBeUndefined()
        yield* gate.open
        yield* Fiber.joinAll([first, second]).pipe(Effect.timeout(timeout))
        expect(yield* results(futures)).toEqual([0, 1, 2])
      }),
      { maxWorkers: 2 }
    )
  )

  it.live("a task running during shutdown cannot submit more work", () =>
    withPool(
      Effect.gen(function* () {
        const gate = yield* Latch.make(false)
        const future = yield* Executor.submit(Effect.andThen(gate.await, Effect.flip(Executor.submit(() => "never"))))
        const shutdown = yield* Effect.forkChild(Executor.shutdown(), { startImmediately: true })
        yield* gate.open
        const error = yield* Future.result(future, { timeout })
        expect(error._tag).toBe("ExecutorShutdownError")
        yield* Fiber.join(shutdown).pipe(Effect.timeout(timeout))
      })
    )
  )

  it.live("a map stream over an endless iterable ends with ExecutorShutdownError once the pool shuts down", () =>
    withPool(
      Effect.gen(function* () {
        function* naturals(): Generator<number> {
          for (let n = 0; ; n++) yield n
        }
        const seen = yield* Deferred.make<void>()
        const stream = yield* Executor.map((n: number) => n, naturals(), { buffersize: 2 }).pipe(
          Stream.tap(() => Deferred.succeed(seen, undefined)),
          Stream.runDrain,
          Effect.flip,
          Effect.forkChild({ startImmediately: true })
        )
        yield* Deferred.await(seen).pipe(Effect.timeout(timeout))
        yield* Executor.shutdown()
        const error = yield* Fiber.join(stream).pipe(Effect.timeout(timeout))
        expect(error).toMatchObject({ _tag: "ExecutorShutdownError" })
      })
    )
  )

  describe("the layer's scope", () => {
    it.live("closing it shuts down with wait: the close returns after the tasks finish", () =>
      Effect.gen(function* () {
        const { scope, executor } = yield* openPool({ maxWorkers: 2 })
        const gate = yield* Latch.make(false)
        const futures = yield* Effect.forEach([0, 1, 2, 3], (i) => executor.submit(Effect.as(gate.await, i)))
        const close = yield* Effect.forkChild(Scope.close(scope, Exit.void), { startImmediately: true })
        yield* settle
        expect(close.pollUnsafe()).toBeUndefined()
        yield* gate.open
        yield* Fiber.join(close).pipe(Effect.timeout(timeout))
        expect(yield* results(futures)).toEqual([0, 1, 2, 3])
        const error = yield* Effect.flip(executor.submit(() => 1))
        expect(error._tag).toBe("ExecutorShutdownError")
      }).pipe(Effect.timeout("10 seconds"))
    )

    it.live("closing it with a map stream's results all delivered, like `with executor: list(map(abs, ...))`", () =>
      Effect.gen(function* () {
        const values = yield* Executor.map(Math.abs, [-5, -4, -3, -2, -1, 0, 1, 2, 3, 4]).pipe(
          Stream.runCollect,
          Effect.provide(ThreadPoolExecutor.layer({ maxWorkers: 5 }))
        )
        expect(values).toEqual([5, 4, 3, 2, 1, 0, 1, 2, 3, 4])
      }).pipe(Effect.timeout("10 seconds"))
    )

    it.live("an interrupted close stops the running tasks, cancels the pending ones and returns promptly", () =>
      Effect.gen(function* () {
        const { scope, executor } = yield* openPool({ maxWorkers: 2 })
        const interrupted: Array<number> = []
        const started = yield* Latch.make(false)
        const futures = yield* Effect.forEach([0, 1, 2, 3], (i) =>
          executor.submit(
            Effect.andThen(i === 1 ? started.open : Effect.void, Effect.never).pipe(
              Effect.onInterrupt(() => Effect.sync(() => interrupted.push(i)))
            )
          )
        )
        yield* started.await.pipe(Effect.timeout(timeout))
        yield* Scope.close(scope, Exit.interrupt()).pipe(Effect.timeout("1 second"))
        expect(interrupted.sort()).toEqual([0, 1])
        expect(yield* states(futures)).toEqual(Array(4).fill("CANCELLED_AND_NOTIFIED"))
        for (const f of futures)
          expect(yield* Effect.flip(Future.result(f, { timeout }))).toBeInstanceOf(CancelledError)
      }).pipe(Effect.timeout("10 seconds"))
    )

    it.live("interrupting the fiber that provides the layer stops its running tasks promptly", () =>
      Effect.gen(function* () {
        const started = yield* Deferred.make<Future.Future<never, unknown>>()
        const finalized = yield* Deferred.make<void>()
        const fiber = yield* Effect.gen(function* () {
          const future = yield* Executor.submit(
            Effect.never.pipe(Effect.onInterrupt(() => Deferred.succeed(finalized, undefined)))
          )
          yield* Deferred.succeed(started, future)
          return yield* Future.result(future)
        }).pipe(Effect.provide(ThreadPoolExecutor.layer({ maxWorkers: 1 })), Effect.forkChild)
        const future = yield* Deferred.await(started).pipe(Effect.timeout(timeout))
        yield* Fiber.interrupt(fiber).pipe(Effect.timeout("1 second"))
        expect(yield* Deferred.isDone(finalized)).toBe(true)
        expect(yield* Future.cancelled(future)).toBe(true)
      }).pipe(Effect.timeout("10 seconds"))
    )
  })
})
