/**
 * The thread pool: the generic executor suite, then what CPython's
 * `test_thread_pool.py` checks of `ThreadPoolExecutor` itself (default and bad
 * `max_workers`, saturation, idle reuse, thread names), then what fibers add:
 * the caller's services, every kind of task, defects, `Future.interrupt`.
 */
import { availableParallelism } from "node:os"
import { describe, expect, it } from "@effect/vitest"
import {
  Cause,
  Context,
  Data,
  Deferred,
  Effect,
  Exit,
  Latch,
  Layer,
  Logger,
  Option,
  References,
  Scope,
  Stream
} from "effect"
import { CancelledError, Executor, Future, ThreadPoolExecutor, UnobservedFailures } from "../src/index.ts"
import { executorSuite } from "./suites/executor.ts"
import * as tasks from "./suites/executorTasks.ts"

executorSuite("ThreadPoolExecutor", (options) => ThreadPoolExecutor.layer(options), tasks)

/** Every wait on a future is bounded, so a deadlock fails fast. */
const timeout = "5 seconds"

const withPool = <A, E>(
  body: Effect.Effect<A, E, Executor.Executor>,
  options: ThreadPoolExecutor.Options = {}
): Effect.Effect<A, unknown> =>
  body.pipe(Effect.provide(ThreadPoolExecutor.layer(options)), Effect.timeout("10 seconds"))

/** The `threadName` log annotation of the fiber running this. */
const threadName: Effect.Effect<string> = Effect.map(References.CurrentLogAnnotations, (a) => String(a.threadName))

/** A counter of tasks running at once, and the most seen, with a gate they wait on. */
const makeGauge = Effect.gen(function* () {
  const gate = yield* Latch.make(false)
  const state = { active: 0, peak: 0 }
  const task = Effect.gen(function* () {
    state.active++
    state.peak = Math.max(state.peak, state.active)
    yield* gate.await
    state.active--
  })
  return { gate, state, task }
})

/** Lets every runnable fiber run before looking. */
const settle = Effect.gen(function* () {
  for (let i = 0; i < 10; i++) yield* Effect.yieldNow
  yield* Effect.promise(() => new Promise((resolve) => setImmediate(resolve)))
})

class Greeting extends Context.Service<Greeting, string>()("test/Greeting") {}

class Boom extends Data.TaggedError("Boom")<{ readonly message: string }> {}

describe("ThreadPoolExecutor", () => {
  describe("maxWorkers", () => {
    it("defaults to min(32, cpus + 4), as Python's", () => {
      expect(ThreadPoolExecutor.defaultMaxWorkers()).toBe(Math.min(32, availableParallelism() + 4))
    })

    it.live("runs at most the default number of tasks at once when not given", () =>
      withPool(
        Effect.gen(function* () {
          const gauge = yield* makeGauge
          const n = ThreadPoolExecutor.defaultMaxWorkers()
          const futures = yield* Effect.forEach(Array.from({ length: n + 3 }), () => Executor.submit(gauge.task))
          yield* settle
          expect(gauge.state.active).toBe(n)
          yield* gauge.gate.open
          yield* Effect.forEach(futures, (f) => Future.result(f, { timeout }))
          expect(gauge.state.peak).toBe(n)
        })
      )
    )

    for (const bad of [0, -1]) {
      it.effect(`fails make with IllegalArgumentError for ${bad}`, () =>
        Effect.gen(function* () {
          const error = yield* Effect.flip(Effect.scoped(ThreadPoolExecutor.make({ maxWorkers: bad })))
          expect(Cause.isIllegalArgumentError(error)).toBe(true)
          expect(error.message).toBe(`ThreadPoolExecutor: maxWorkers must be greater than 0, got ${bad}`)
        })
      )
    }

    for (const bad of [Number.NaN, 1.5, Number.POSITIVE_INFINITY]) {
      it.effect(`fails make with IllegalArgumentError naming the option for ${bad}`, () =>
        Effect.gen(function* () {
          const error = yield* Effect.flip(Effect.scoped(ThreadPoolExecutor.make({ maxWorkers: bad })))
          expect(Cause.isIllegalArgumentError(error)).toBe(true)
          expect(error.message).toMatch(
            new RegExp(`^ThreadPoolExecutor: maxWorkers must be .*greater than 0, got ${bad}$`)
          )
        })
      )
    }

    it.effect("fails the layer with the same error", () =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(Layer.build(ThreadPoolExecutor.layer({ maxWorkers: 0 })))
        expect(error.message).toBe("ThreadPoolExecutor: maxWorkers must be greater than 0, got 0")
      })
    )

    it.live("runs at most maxWorkers tasks at once and queues the rest", () =>
      withPool(
        Effect.gen(function* () {
          const gauge = yield* makeGauge
          const futures = yield* Effect.forEach(Array.from({ length: 15 * 4 }), () => Executor.submit(gauge.task))
          yield* settle
          expect(gauge.state.active).toBe(4)
          const running = yield* Effect.filter(futures, Future.running)
          expect(running.length).toBe(4)
          const pending = yield* Effect.filter(futures, (f) => Effect.map(Future.state(f), (s) => s === "PENDING"))
          expect(pending.length).toBe(15 * 4 - 4)
          yield* gauge.gate.open
          yield* Effect.forEach(futures, (f) => Future.result(f, { timeout }))
          expect(gauge.state.peak).toBe(4)
        }),
        { maxWorkers: 4 }
      )
    )
  })

  describe("workers", () => {
    it.live("a worker runs the done callbacks of the future it completed before its next item, as a thread does", () =>
      withPool(
        Effect.gen(function* () {
          const gate = yield* Latch.make(false)
          const names: Array<string> = []
          const first = yield* Executor.submit(Effect.sleep("10 millis"))
          yield* Future.addDoneCallback(first, () =>
            Effect.andThen(
              Effect.map(threadName, (name) => names.push(name)),
              gate.await
            )
          )
          const second = yield* Executor.submit(Effect.succeed("second"))
          yield* Effect.sleep("50 millis")
          expect(yield* Future.done(first)).toBe(true)
          expect(yield* Future.state(second)).toBe("PENDING")
          yield* gate.open
          expect(yield* Future.result(second, { timeout })).toBe("second")
          // The callback ran on the worker that completed the future.
          expect(names).toHaveLength(1)
          expect(names[0]).toMatch(/_0$/)
        }),
        { maxWorkers: 1 }
      )
    )

    it.live("reuses an idle worker instead of starting a new one", () =>
      withPool(
        Effect.gen(function* () {
          const names: Array<string> = []
          for (const [a, b] of [
            [21, 2],
            [6, 7],
            [3, 14]
          ] as const) {
            const future = yield* Executor.submit(
              (x: number, y: number) =>
                Effect.map(threadName, (name) => {
                  names.push(name)
                  return x * y
                }),
              a,
              b
            )
            expect(yield* Future.result(future, { timeout })).toBe(42)
          }
          expect(names.length).toBe(3)
          expect(new Set(names).size).toBe(1)
          expect(names[0]).toMatch(/_0$/)
        })
      )
    )

    it.live("names workers <threadNamePrefix>_<n> in log annotations", () =>
      Effect.gen(function* () {
        const logged: Array<unknown> = []
        const capture = Logger.make((options) => {
          logged.push(options.fiber.getRef(References.CurrentLogAnnotations).threadName)
        })
        yield* withPool(
          Effect.gen(function* () {
            const gate = yield* Latch.make(false)
            const futures = yield* Effect.forEach(Array.from({ length: 5 }), (_, i) =>
              Executor.submit(Effect.andThen(Effect.log(`task ${i}`), gate.await))
            )
            yield* gate.open
            yield* Effect.forEach(futures, (f) => Future.result(f, { timeout }))
          }).pipe(Effect.provide(Logger.layer([capture]))),
          { maxWorkers: 5, threadNamePrefix: "SpecialPool" }
        )
        expect(logged.length).toBe(5)
        expect(new Set(logged)).toEqual(new Set([0, 1, 2, 3, 4].map((n) => `SpecialPool_${n}`)))
      })
    )

    it.live("sets the threadName span attribute", () =>
      withPool(
        Effect.gen(function* () {
          const future = yield* Executor.submit(
            Effect.currentSpan.pipe(
              Effect.map((span) => span.attributes.get("threadName")),
              Effect.withSpan("task")
            )
          )
          expect(yield* Future.result(future, { timeout })).toBe("Spans_0")
        }),
        { threadNamePrefix: "Spans" }
      )
    )

    it.live("names workers ThreadPoolExecutor-<k>_<n> by default, with a different k per pool", () =>
      Effect.gen(function* () {
        const nameIn = withPool(
          Effect.flatMap(Executor.submit(threadName), (f) => Future.result(f, { timeout })),
          { maxWorkers: 5 }
        )
        const first = yield* nameIn
        const second = yield* nameIn
        expect(first).toMatch(/^ThreadPoolExecutor-\d+_[0-4]$/)
        expect(second).toMatch(/^ThreadPoolExecutor-\d+_[0-4]$/)
        expect(first.replace(/_\d+$/, "")).not.toBe(second.replace(/_\d+$/, ""))
      })
    )

    it.live("idle workers take queued tasks as soon as they are free", () =>
      withPool(
        Effect.gen(function* () {
          const names: Array<string> = []
          const gauge = yield* makeGauge
          const futures = yield* Effect.forEach(Array.from({ length: 6 }), () =>
            Executor.submit(
              Effect.andThen(
                gauge.task,
                Effect.map(threadName, (n) => names.push(n))
              )
            )
          )
          yield* gauge.gate.open
          yield* Effect.forEach(futures, (f) => Future.result(f, { timeout }))
          expect(new Set(names)).toEqual(new Set(["Two_0", "Two_1"]))
        }),
        { maxWorkers: 2, threadNamePrefix: "Two" }
      )
    )
  })

  describe("tasks", () => {
    it.live("run with the services of the caller of submit", () =>
      withPool(
        Effect.gen(function* () {
          const effectTask = yield* Executor.submit(Effect.map(Greeting, (g) => `${g}, effect`)).pipe(
            Effect.provideService(Greeting, "hello")
          )
          const fnTask = yield* Executor.submit(
            (name: string) => Effect.map(Greeting, (g) => `${g}, ${name}`),
            "fn"
          ).pipe(Effect.provideService(Greeting, "hi"))
          expect(yield* Future.result(effectTask, { timeout })).toBe("hello, effect")
          expect(yield* Future.result(fnTask, { timeout })).toBe("hi, fn")
        })
      )
    )

    it.live("may be an Effect, or a function returning a value, a Promise or an Effect", () =>
      withPool(
        Effect.gen(function* () {
          const effect = yield* Executor.submit(Effect.succeed("effect"))
          const value = yield* Executor.submit((a: number, b: number) => a + b, 1, 2)
          const promise = yield* Executor.submit(async (s: string) => {
            await new Promise((resolve) => setTimeout(resolve, 5))
            return s.toUpperCase()
          }, "promise")
          const returnsEffect = yield* Executor.submit((n: number) => Effect.succeed(n * 2).pipe(Effect.delay(5)), 21)
          expect(yield* Future.result(effect, { timeout })).toBe("effect")
          expect(yield* Future.result(value, { timeout })).toBe(3)
          expect(yield* Future.result(promise, { timeout })).toBe("PROMISE")
          expect(yield* Future.result(returnsEffect, { timeout })).toBe(42)
        })
      )
    )

    it.live("a thrown error becomes a defect with its stack, and result keeps it a defect", () =>
      withPool(
        Effect.gen(function* () {
          function explodeInTask(): number {
            throw new Error("boom")
          }
          const future = yield* Executor.submit(explodeInTask)
          const exit = yield* Effect.exit(Future.result(future, { timeout }))
          expect(Exit.hasDies(exit)).toBe(true)
          expect(Exit.hasFails(exit)).toBe(false)
          const defect = Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined
          expect(defect).toBeInstanceOf(Error)
          expect((defect as Error).message).toBe("boom")
          expect((defect as Error).stack).toContain("explodeInTask")
          const exception = yield* Future.exception(future, { timeout })
          expect(Option.getOrUndefined(exception)).toBe(defect)
        })
      )
    )

    it.live("a function that throws at once, with nobody looking at its future, is reported by failOnUnobserved", () =>
      Effect.gen(function* () {
        const exit = yield* Effect.exit(
          withPool(
            Effect.gen(function* () {
              const seen = yield* Executor.submit((n: number) => n + 1, 1)
              expect(yield* Future.result(seen, { timeout })).toBe(2)
              yield* Executor.submit(() => {
                throw new RangeError("nobody looked")
              })
            }),
            { failOnUnobserved: true }
          )
        )
        const defect = Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined
        expect(defect).toBeInstanceOf(UnobservedFailures)
        expect((defect as UnobservedFailures).count).toBe(1)
        expect(String((defect as UnobservedFailures).failures[0])).toContain("nobody looked")
      })
    )

    it.live("a rejected Promise becomes a defect", () =>
      withPool(
        Effect.gen(function* () {
          const future = yield* Executor.submit(() => Promise.reject(new TypeError("rejected")))
          const exit = yield* Future.await(future).pipe(Effect.timeout(timeout))
          expect(Exit.hasDies(exit)).toBe(true)
          if (Exit.isFailure(exit)) expect(Cause.squash(exit.cause)).toBeInstanceOf(TypeError)
        })
      )
    )

    it.live("a typed failure stays typed: catchTag works on Future.result", () =>
      withPool(
        Effect.gen(function* () {
          const future = yield* Executor.submit(
            (n: number) => (n > 0 ? Effect.fail(new Boom({ message: "boom" })) : Effect.succeed(n)),
            1
          )
          const caught = yield* Future.result(future, { timeout }).pipe(
            Effect.catchTag("Boom", (error) => Effect.succeed(error instanceof Boom))
          )
          expect(caught).toBe(true)
          const failed = yield* Executor.submit(tasks.failWith("typed"))
          const error = yield* Effect.flip(Future.result(failed, { timeout }))
          expect(error).toBeInstanceOf(tasks.SuiteError)
        })
      )
    )

    it.live("a task whose fiber dies past its own handlers still ends its future, never a hang", () =>
      withPool(
        Effect.gen(function* () {
          // Effect's run loop kills a fiber that meets something that is not an Effect, skipping
          // `onExit`; plain JavaScript callers can hand such a task over.
          const invalid = Effect.void.pipe(Effect.andThen((() => undefined) as unknown as () => Effect.Effect<void>))
          const future = yield* Executor.submit(invalid)
          const exit = yield* Future.await(future).pipe(Effect.timeout("1 second"))
          expect(Exit.hasDies(exit)).toBe(true)
          const next = yield* Executor.submit(() => "still works")
          expect(yield* Future.result(next, { timeout })).toBe("still works")
        }),
        { maxWorkers: 1 }
      )
    )

    it.live("map accepts functions returning Promises and Effects", () =>
      withPool(
        Effect.gen(function* () {
          const doubled = yield* Executor.map(async (n: number) => n * 2, [1, 2, 3]).pipe(Stream.runCollect)
          const tripled = yield* Executor.map((n: number) => Effect.succeed(n * 3), [1, 2, 3]).pipe(Stream.runCollect)
          expect(doubled).toEqual([2, 4, 6])
          expect(tripled).toEqual([3, 6, 9])
        })
      )
    )

    it.live("map over many calls that end at once gives every result in order, and a throw in between ends it", () =>
      withPool(
        Effect.gen(function* () {
          const n = 10_000
          const inputs = Array.from({ length: n }, (_, i) => i)
          const results = yield* Executor.map((x: number) => x + 1, inputs).pipe(Stream.runCollect)
          expect(results).toEqual(inputs.map((x) => x + 1))
          const seen: Array<number> = []
          const exit = yield* Executor.map((x: number) => {
            if (x === 6000) throw new Error("boom at 6000")
            return x
          }, inputs).pipe(
            Stream.runForEach((x) => Effect.sync(() => seen.push(x))),
            Effect.exit
          )
          expect(seen).toEqual(inputs.slice(0, 6000))
          expect(Exit.isFailure(exit) && Cause.squash(exit.cause)).toEqual(new Error("boom at 6000"))
        }),
        { maxWorkers: 4 }
      )
    )
  })

  describe("map", () => {
    it.live("a map timing out while the pool is saturated never starts its calls", () =>
      Effect.gen(function* () {
        // CPython's test_executor_map_current_future_cancel.
        const log: Array<string> = []
        const stop = yield* Latch.make(false)
        const logAndWait = (ident: string) =>
          Effect.sync(() => log.push(`${ident} started`)).pipe(
            Effect.andThen(stop.await),
            Effect.ensuring(Effect.sync(() => log.push(`${ident} stopped`)))
          )
        yield* withPool(
          Effect.gen(function* () {
            const first = yield* Executor.submit(logAndWait, "first")
            const error = yield* Executor.map(logAndWait, ["second", "third"], { timeout: 0 }).pipe(
              Stream.runCollect,
              Effect.flip
            )
            expect(Cause.isTimeoutError(error)).toBe(true)
            yield* stop.open
            yield* Future.result(first, { timeout })
          }),
          { maxWorkers: 1 }
        )
        expect(log).toEqual(["first started", "first stopped"])
      })
    )

    it.live("a task can submit more work to its own pool", () =>
      withPool(
        Effect.gen(function* () {
          const outer = yield* Executor.submit(() => Executor.submit((n: number) => n + 1, 41))
          const inner = yield* Future.result(outer, { timeout })
          expect(yield* Future.result(inner, { timeout })).toBe(42)
        }),
        { maxWorkers: 1 }
      )
    )
  })

  describe("Future.interrupt", () => {
    it.live("stops a running task, runs its finalizers, and the future ends cancelled", () =>
      withPool(
        Effect.gen(function* () {
          const started = yield* Deferred.make<void>()
          const finalized = yield* Deferred.make<void>()
          const future = yield* Executor.submit(
            Effect.andThen(Deferred.succeed(started, undefined), Effect.never).pipe(
              Effect.onInterrupt(() => Deferred.succeed(finalized, undefined))
            )
          )
          yield* Deferred.await(started).pipe(Effect.timeout(timeout))
          expect(yield* Future.running(future)).toBe(true)
          expect(yield* Future.cancel(future)).toBe(false)
          expect(yield* Future.interrupt(future).pipe(Effect.timeout(timeout))).toBe(true)
          expect(yield* Deferred.isDone(finalized)).toBe(true)
          expect(yield* Future.cancelled(future)).toBe(true)
          expect(yield* Future.state(future)).toBe("CANCELLED_AND_NOTIFIED")
          const error = yield* Effect.flip(Future.result(future, { timeout }))
          expect(error).toBeInstanceOf(CancelledError)
        }),
        { maxWorkers: 1 }
      )
    )

    it.live("frees the worker for the next queued task", () =>
      withPool(
        Effect.gen(function* () {
          const started = yield* Deferred.make<void>()
          const stuck = yield* Executor.submit(Effect.andThen(Deferred.succeed(started, undefined), Effect.never))
          const next = yield* Executor.submit(() => "next")
          yield* Deferred.await(started).pipe(Effect.timeout(timeout))
          expect(yield* Future.state(next)).toBe("PENDING")
          yield* Future.interrupt(stuck).pipe(Effect.timeout(timeout))
          expect(yield* Future.result(next, { timeout })).toBe("next")
        }),
        { maxWorkers: 1 }
      )
    )

    it.live("stops waiting on a Promise the task returned: the future ends cancelled and the worker is free", () =>
      withPool(
        Effect.gen(function* () {
          // The first is called inside submit; the second waits in the queue, then is called by the worker.
          const stuck = yield* Executor.submit(() => new Promise<never>(() => {}))
          const queued = yield* Executor.submit(() => new Promise<never>(() => {}))
          const next = yield* Executor.submit(async () => "next")
          expect(yield* Future.running(stuck)).toBe(true)
          expect(yield* Future.state(queued)).toBe("PENDING")
          expect(yield* Future.interrupt(stuck).pipe(Effect.timeout(timeout))).toBe(true)
          expect(yield* Future.state(stuck)).toBe("CANCELLED_AND_NOTIFIED")
          expect(yield* Future.running(queued)).toBe(true)
          expect(yield* Future.state(next)).toBe("PENDING")
          expect(yield* Future.interrupt(queued).pipe(Effect.timeout(timeout))).toBe(true)
          expect(yield* Future.state(queued)).toBe("CANCELLED_AND_NOTIFIED")
          expect(yield* Future.result(next, { timeout })).toBe("next")
        }),
        { maxWorkers: 1 }
      )
    )

    it.live("an interrupted scope stops waiting on Promises that never settle, and closes", () =>
      Effect.gen(function* () {
        const scope = yield* Scope.make()
        const executor = yield* Scope.provide(scope)(ThreadPoolExecutor.make({ maxWorkers: 2 }))
        const futures = [
          yield* executor.submit(() => new Promise<never>(() => {})),
          yield* executor.submit(() => new Promise<never>(() => {})),
          yield* executor.submit(() => "queued")
        ]
        yield* Scope.close(scope, Exit.interrupt()).pipe(Effect.timeout(timeout))
        expect(yield* Effect.forEach(futures, Future.state)).toEqual([
          "CANCELLED_AND_NOTIFIED",
          "CANCELLED_AND_NOTIFIED",
          "CANCELLED_AND_NOTIFIED"
        ])
      })
    )

    it.live("of a finished future returns false and keeps its result", () =>
      withPool(
        Effect.gen(function* () {
          const future = yield* Executor.submit(() => 7)
          expect(yield* Future.result(future, { timeout })).toBe(7)
          expect(yield* Future.interrupt(future)).toBe(false)
          expect(yield* Future.result(future, { timeout })).toBe(7)
        })
      )
    )
  })
})
