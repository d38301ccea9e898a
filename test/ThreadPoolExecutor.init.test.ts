/**
 * The thread pool's `initializer` and `initargs`: what CPython's
 * `test_init.py` checks (`InitializerMixin`, `FailingInitializerMixin`) on a
 * thread pool, plus Effect initializers.
 */
import { describe, expect, it } from "@effect/vitest"
import { Cause, Context, Deferred, Effect, Latch, Logger, Ref, References, Stream } from "effect"
import { BrokenExecutor, Executor, Future, ThreadPoolExecutor } from "../src/index.ts"
import * as tasks from "./fixtures/tasks.ts"

/** Every wait is bounded, so a deadlock fails fast. */
const timeout = "5 seconds"

const withPool = <A, E, R = never>(
  body: Effect.Effect<A, E, Executor.Executor>,
  options: ThreadPoolExecutor.Options<R>
): Effect.Effect<A, unknown, R> =>
  body.pipe(Effect.provide(ThreadPoolExecutor.layer(options)), Effect.timeout("10 seconds"))

class InitCount extends Context.Service<InitCount, Ref.Ref<number>>()("test/InitCount") {}

const initializerError = new Error("error in initializer")

/** The pool's failure as the futures and `submit` report it. */
const expectBroken = (error: unknown): void => {
  expect(error).toBeInstanceOf(BrokenExecutor)
  const broken = error as BrokenExecutor
  expect(broken._tag).toBe("BrokenExecutor")
  expect(broken.kind).toBe("ThreadPool")
  expect(broken.reason).toMatch(/initializer/)
}

describe("ThreadPoolExecutor initializer", () => {
  it.live("runs once in each worker, with initargs, before the worker's first task", () =>
    Effect.gen(function* () {
      // As CPython's `init`/`get_init_status`: the initializer sets a status every task reads.
      let status = "uninitialized"
      const calls: Array<ReadonlyArray<unknown>> = []
      const seen = yield* withPool(
        Effect.gen(function* () {
          const gate = yield* Latch.make(false)
          const task = Effect.sync(() => status).pipe(Effect.tap(() => gate.await))
          const futures = yield* Effect.forEach(Array.from({ length: 6 }), () => Executor.submit(task))
          yield* gate.open
          return yield* Effect.forEach(futures, (f) => Future.result(f, { timeout }))
        }),
        {
          maxWorkers: 2,
          // Slow on purpose: the worker's first task must wait for it.
          initializer: (value: string, n: number) =>
            Effect.sleep(10).pipe(
              Effect.andThen(
                Effect.sync(() => {
                  calls.push([value, n])
                  status = `${value} ${n}`
                })
              )
            ),
          initargs: ["initialized", 7]
        }
      )
      expect(calls).toEqual([
        ["initialized", 7],
        ["initialized", 7]
      ])
      expect(seen).toEqual(Array(6).fill("initialized 7"))
    })
  )

  it.live("a plain function initializer gets the initargs", () =>
    Effect.gen(function* () {
      const calls: Array<ReadonlyArray<unknown>> = []
      const value = yield* withPool(
        Effect.flatMap(
          Executor.submit(() => calls.length),
          (f) => Future.result(f, { timeout })
        ),
        {
          maxWorkers: 3,
          initializer: (...args: Array<unknown>) => void calls.push(args),
          initargs: ["a", 1, { b: true }]
        }
      )
      expect(value).toBe(1)
      expect(calls).toEqual([["a", 1, { b: true }]])
    })
  )

  it.live("may be an Effect that uses the services given to make", () =>
    Effect.gen(function* () {
      const count = yield* Ref.make(0)
      const counted = yield* withPool(
        Effect.gen(function* () {
          const gate = yield* Latch.make(false)
          const futures = yield* Effect.forEach(Array.from({ length: 10 }), () => Executor.submit(gate.await))
          yield* gate.open
          yield* Effect.forEach(futures, (f) => Future.result(f, { timeout }))
          // Sequential tasks reuse an idle worker, so no new initializer runs.
          yield* Effect.flatMap(
            Executor.submit(() => 1),
            (f) => Future.result(f, { timeout })
          )
          return yield* Ref.get(count)
        }),
        { maxWorkers: 3, initializer: Effect.flatMap(InitCount, (ref) => Ref.update(ref, (n) => n + 1)) }
      ).pipe(Effect.provideService(InitCount, count))
      expect(counted).toBe(3)
    })
  )

  it.live("runs in the worker: its logs carry the worker's threadName", () =>
    Effect.gen(function* () {
      const logged: Array<unknown> = []
      const capture = Logger.make((options) => {
        logged.push(options.fiber.getRef(References.CurrentLogAnnotations).threadName)
      })
      yield* withPool(
        Effect.flatMap(Executor.submit(Effect.log("task")), (f) => Future.result(f, { timeout })),
        {
          maxWorkers: 1,
          threadNamePrefix: "Logged",
          initializer: Effect.log("initializer")
        }
      ).pipe(Effect.provide(Logger.layer([capture])))
      expect(logged).toEqual(["Logged_0", "Logged_0"])
    })
  )

  it.live("may be a Task, as on the worker pools, with initargs", () =>
    Effect.gen(function* () {
      // The options a worker pool takes, as generic code would pass them to any pool.
      const options = { maxWorkers: 1, initializer: tasks.initialize, initargs: ["set by a Task initializer"] }
      const state = yield* withPool(
        Effect.flatMap(Executor.submit(tasks.initState, 0), (f) => Future.result(f, { timeout })),
        options
      )
      expect(state.greeting).toBe("set by a Task initializer")
    })
  )

  describe("failing", () => {
    it.live("a Task that fails breaks the pool, its error kept as the cause", () =>
      withPool(
        Effect.gen(function* () {
          const future = yield* Executor.submit(() => 1)
          const error = yield* Effect.flip(Future.result(future, { timeout }))
          expectBroken(error)
          expect((error as BrokenExecutor).cause).toBeInstanceOf(tasks.TaskError)
          expect(((error as BrokenExecutor).cause as Error).message).toBe("init failed")
        }),
        { maxWorkers: 1, initializer: tasks.failingInit, initargs: ["init failed"] }
      )
    )

    it.live("breaks the pool: the future that started it and every pending one fail with BrokenExecutor", () =>
      Effect.gen(function* () {
        const gate = yield* Latch.make(false)
        yield* withPool(
          Effect.gen(function* () {
            // As CPython's `init_fail`, which sleeps so that some futures get queued first.
            const futures = yield* Effect.forEach(
              Array.from({ length: 5 }, (_, i) => i),
              (i) => Executor.submit(() => i)
            )
            yield* gate.open
            for (const future of futures) {
              const error = yield* Effect.flip(Future.result(future, { timeout }))
              expectBroken(error)
            }
          }),
          { maxWorkers: 2, initializer: Effect.andThen(gate.await, Effect.fail(initializerError)) }
        )
      })
    )

    it.live("keeps the initializer's error as the BrokenExecutor's cause", () =>
      withPool(
        Effect.gen(function* () {
          const future = yield* Executor.submit(() => 1)
          const error = yield* Effect.flip(Future.result(future, { timeout }))
          expectBroken(error)
          expect((error as BrokenExecutor).cause).toBe(initializerError)
        }),
        {
          maxWorkers: 1,
          initializer: () => {
            throw initializerError
          }
        }
      )
    )

    it.live("logs the initializer's error, as Python logs it at CRITICAL", () =>
      Effect.gen(function* () {
        const logged: Array<string> = []
        const capture = Logger.make((options) => {
          logged.push(`${options.logLevel} ${String(options.message)} ${Cause.pretty(options.cause)}`)
        })
        yield* withPool(
          Effect.flatMap(
            Executor.submit(() => 1),
            (f) => Effect.flip(Future.result(f, { timeout }))
          ),
          { maxWorkers: 1, initializer: Effect.fail(initializerError) }
        ).pipe(Effect.provide(Logger.layer([capture])))
        expect(logged.some((line) => line.includes("error in initializer"))).toBe(true)
      })
    )

    it.live("once broken, submit and map fail with BrokenExecutor", () =>
      withPool(
        Effect.gen(function* () {
          const first = yield* Executor.submit(() => 1)
          expectBroken(yield* Effect.flip(Future.result(first, { timeout })))
          expectBroken(yield* Effect.flip(Executor.submit(() => 2)))
          const mapError = yield* Executor.map((n: number) => n, [1, 2, 3]).pipe(Stream.runCollect, Effect.flip)
          expectBroken(mapError)
        }),
        { maxWorkers: 2, initializer: () => Promise.reject(initializerError) }
      )
    )

    it.live("a broken pool still shuts down, and a task that was running keeps its result", () =>
      Effect.gen(function* () {
        const started = yield* Deferred.make<void>()
        const release = yield* Latch.make(false)
        const initGate = yield* Latch.make(false)
        let inits = 0
        yield* withPool(
          Effect.gen(function* () {
            // The first worker initializes fine and runs a long task; the second one's initializer fails.
            const long = yield* Executor.submit(
              Effect.andThen(Deferred.succeed(started, undefined), Effect.as(release.await, "long"))
            )
            yield* Deferred.await(started).pipe(Effect.timeout(timeout))
            yield* initGate.open
            const doomed = yield* Executor.submit(() => "doomed")
            expectBroken(yield* Effect.flip(Future.result(doomed, { timeout })))
            expectBroken(yield* Effect.flip(Executor.submit(() => "later")))
            yield* release.open
            expect(yield* Future.result(long, { timeout })).toBe("long")
            yield* Executor.shutdown({ wait: true })
          }),
          {
            maxWorkers: 2,
            initializer: Effect.suspend(() =>
              inits++ === 0 ? Effect.void : Effect.andThen(initGate.await, Effect.fail(initializerError))
            )
          }
        )
      })
    )
  })
})
