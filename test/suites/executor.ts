/**
 * The tests every executor must pass, written only against the
 * `Executor.Executor` service so one suite runs on each pool: call
 * `executorSuite(name, makeLayer, tasks)` once per pool.
 *
 * Mirrors CPython's `ExecutorTest` (`Lib/test/test_concurrent_futures/executor.py`),
 * the generic part of `ExecutorShutdownTest` (`test_shutdown.py`) and
 * `create_executor_tests` (`util.py`).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"
import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit, Fiber, type Layer, Option, Stream } from "effect"
import { type BrokenExecutor, Executor, Future } from "../../src/index.ts"
import type * as Task from "../../src/Task.ts"
import type { SuiteError } from "./executorTasks.ts"

/**
 * A task as the suite hands it to `submit` and `map`: a plain function on the
 * thread pool, a `Task` on the worker pools.
 */
export type SuiteTask<Args extends ReadonlyArray<unknown>, A, E = never> =
  | Task.Task<Args, A, E>
  | ((...args: Args) => A | PromiseLike<A> | Effect.Effect<A, E>)

/** The tasks the suite runs; `./executorTasks.ts` has their plain implementations. */
export interface ExecutorSuiteTasks {
  /** `a + b` */
  readonly add: SuiteTask<[number, number], number>
  /** `a * b` */
  readonly mul: SuiteTask<[number, number], number>
  /** `a ** b` */
  readonly pow: SuiteTask<[number, number], number>
  /** `a / b` rounded down; throws `RangeError("division by zero")` for `b === 0` */
  readonly divide: SuiteTask<[number, number], number>
  /** sleeps `ms`, then returns `value` */
  readonly sleepThenReturn: SuiteTask<[ms: number, value: unknown], unknown>
  /** fails with `new SuiteError({ message })` */
  readonly failWith: SuiteTask<[message: string], never, SuiteError>
  /** appends `value` as a line to `file` when it starts, sleeps `ms`, returns `value` */
  readonly record: SuiteTask<[file: string, value: number, ms: number], number>
}

/** How the suite builds a fresh executor for one test. */
export type MakeExecutorLayer = (options: { readonly maxWorkers: number }) => Layer.Layer<Executor.Executor, unknown>

/** Options of `executorSuite`. */
export interface ExecutorSuiteOptions {
  /** Multiplies the suite's real-time durations, for pools whose workers start slowly (default 1). */
  readonly timeScale?: number | undefined
}

/** CPython's `ExecutorMixin.worker_count`. */
const workerCount = 5

/** Every wait on a future is bounded, so a deadlock fails fast. */
const resultTimeout = "5 seconds"

const submit = <Args extends ReadonlyArray<unknown>, A, E>(
  task: SuiteTask<Args, A, E>,
  ...args: Args
): Effect.Effect<Future.Future<A, E | BrokenExecutor>, Executor.SubmitError, Executor.Executor> =>
  (Executor.submit as (task: unknown, ...args: Array<unknown>) => Effect.Effect<any, any, any>)(task, ...args)

const map = <Args extends ReadonlyArray<unknown>, A, E>(
  task: SuiteTask<Args, A, E>,
  ...iterables: [...Executor.Iterables<Args>] | [...Executor.Iterables<Args>, Executor.MapOptions]
): Stream.Stream<A, E | Executor.MapError, Executor.Executor> =>
  (Executor.map as (task: unknown, ...rest: Array<unknown>) => Stream.Stream<any, any, any>)(task, ...iterables)

const result = <A, E>(future: Future.Future<A, E>) => Future.result(future, { timeout: resultTimeout })

const range = (n: number): Array<number> => Array.from({ length: n }, (_, i) => i)

/** Python's `itertools.count()`, counting how many values were taken from it. */
export const counting = () => {
  const state = { pulled: 0 }
  function* values(): Generator<number> {
    while (true) yield state.pulled++
  }
  return { state, values: values() }
}

/** Python's `itertools.repeat(value)`. */
export function* repeat<A>(value: A): Generator<A> {
  while (true) yield value
}

/** A fresh file for `record`, removed when the test ends, and how many calls it has seen. */
const recordFile = Effect.gen(function* () {
  const dir = mkdtempSync(join(tmpdir(), "executor-suite-"))
  yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
  const file = join(dir, "calls.txt")
  const calls = (): number => {
    try {
      return readFileSync(file, "utf8")
        .split("\n")
        .filter((line) => line.length > 0).length
    } catch {
      return 0
    }
  }
  return { file, calls }
})

/** The defect's message, however the pool carried it back. */
const defectMessage = (cause: Cause.Cause<unknown>): string => {
  const defect = Cause.squash(cause)
  return defect instanceof Error ? defect.message : String(defect)
}

setFlagsFromString("--expose-gc")
const gc = runInNewContext("gc") as () => void

/** CPython's `gc_collect()` in a `sleeping_retry` loop: `true` once every reference is cleared. */
const collected = (refs: ReadonlyArray<WeakRef<object>>): Effect.Effect<boolean> =>
  Effect.gen(function* () {
    for (let attempt = 0; attempt < 20; attempt++) {
      // WeakRefs are kept for the rest of the job that made them: yield a macrotask first.
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 5)))
      gc()
      if (refs.every((ref) => ref.deref() === undefined)) return true
    }
    return false
  })

/**
 * Runs CPython's generic executor tests on the executor `makeLayer` builds.
 * Each test gets a fresh executor with `maxWorkers: 5` (CPython's
 * `worker_count`) unless it says otherwise, shut down when the test ends.
 */
export const executorSuite = (
  name: string,
  makeLayer: MakeExecutorLayer,
  tasks: ExecutorSuiteTasks,
  options: ExecutorSuiteOptions = {}
): void => {
  const scale = options.timeScale ?? 1
  const ms = (n: number): number => Math.round(n * scale)

  /** The test body on a fresh executor, shutdown included, under one deadline. */
  const withExecutor = <A, E>(
    body: Effect.Effect<A, E, Executor.Executor>,
    maxWorkers: number = workerCount
  ): Effect.Effect<A, unknown> => body.pipe(Effect.provide(makeLayer({ maxWorkers })), Effect.timeout(ms(10_000)))

  describe(`${name} (executor suite)`, () => {
    describe("submit", () => {
      it.live("runs the task with its arguments and the future gives the result", () =>
        withExecutor(
          Effect.gen(function* () {
            const future = yield* submit(tasks.pow, 2, 8)
            expect(yield* result(future)).toBe(256)
            expect(yield* Future.state(future)).toBe("FINISHED")
            expect(yield* Future.done(future)).toBe(true)
          })
        )
      )

      it.live("passes the arguments in order", () =>
        withExecutor(
          Effect.gen(function* () {
            expect(yield* result(yield* submit(tasks.pow, 8, 2))).toBe(64)
            expect(yield* result(yield* submit(tasks.mul, 2, 8))).toBe(16)
            expect(yield* result(yield* submit(tasks.sleepThenReturn, 0, { a: [1, "two"] }))).toEqual({
              a: [1, "two"]
            })
          })
        )
      )

      it.live("keeps a typed failure typed, so catchTag sees it", () =>
        withExecutor(
          Effect.gen(function* () {
            const future = yield* submit(tasks.failWith, "bad input")
            const caught = yield* result(future).pipe(
              Effect.catchTag("SuiteError", (error) => Effect.succeed(`caught ${error.message}`))
            )
            expect(caught).toBe("caught bad input")
          })
        )
      )

      it.live("makes a thrown error a defect that keeps its message", () =>
        withExecutor(
          Effect.gen(function* () {
            const exit = yield* Future.await(yield* submit(tasks.divide, 1, 0)).pipe(Effect.timeout(resultTimeout))
            expect(Exit.hasDies(exit)).toBe(true)
            if (Exit.isFailure(exit)) expect(defectMessage(exit.cause)).toContain("division by zero")
          })
        )
      )

      it.live("keeps the executor usable after a task fails", () =>
        withExecutor(
          Effect.gen(function* () {
            yield* Future.await(yield* submit(tasks.divide, 1, 0)).pipe(Effect.timeout(resultTimeout))
            yield* Future.await(yield* submit(tasks.failWith, "x")).pipe(Effect.timeout(resultTimeout))
            expect(yield* result(yield* submit(tasks.add, 20, 22))).toBe(42)
          })
        )
      )

      it.live("runs many submitted tasks and every future gets its own result", () =>
        withExecutor(
          Effect.gen(function* () {
            const futures = yield* Effect.forEach(range(50), (i) => submit(tasks.add, i, 1000))
            const results = yield* Effect.forEach(futures, result)
            expect(results).toEqual(range(50).map((i) => i + 1000))
          })
        )
      )

      it.live("does not keep a finished task's argument alive", () =>
        withExecutor(
          Effect.gen(function* () {
            const refs: Array<WeakRef<object>> = []
            // In a function of its own, so no local of this test holds the argument or the future.
            yield* Effect.suspend(() => {
              const argument = { payload: "x".repeat(1024) }
              refs.push(new WeakRef(argument))
              return Effect.flatMap(submit(tasks.sleepThenReturn, 0, argument), (future) =>
                Future.await(future).pipe(Effect.timeout(resultTimeout), Effect.asVoid)
              )
            })
            expect(yield* collected(refs)).toBe(true)
          })
        )
      )
    })

    describe("map", () => {
      it.live("zips the iterables and keeps input order", () =>
        withExecutor(
          Effect.gen(function* () {
            const expected = range(10).map((i) => i ** i)
            expect(yield* Stream.runCollect(map(tasks.pow, range(10), range(10)))).toEqual(expected)
            expect(yield* Stream.runCollect(map(tasks.pow, range(10), range(10), { chunksize: 3 }))).toEqual(expected)
          })
        )
      )

      it.live("stops at the shortest iterable, like zip", () =>
        withExecutor(
          Effect.gen(function* () {
            expect(yield* Stream.runCollect(map(tasks.add, [1, 2, 3], [10, 20]))).toEqual([11, 22])
            expect(yield* Stream.runCollect(map(tasks.add, counting().values, [10, 20, 30]))).toEqual([10, 21, 32])
            expect(yield* Stream.runCollect(map(tasks.add, [], [1, 2]))).toEqual([])
          })
        )
      )

      it.live("gives the results before a failure, then fails with the task's defect", () =>
        withExecutor(
          Effect.gen(function* () {
            const seen: Array<number> = []
            const exit = yield* map(tasks.divide, [1, 1, 1, 1], [2, 3, 0, 5]).pipe(
              Stream.runForEach((n) => Effect.sync(() => seen.push(n))),
              Effect.exit
            )
            expect(seen).toEqual([0, 0])
            expect(Exit.hasDies(exit)).toBe(true)
            if (Exit.isFailure(exit)) expect(defectMessage(exit.cause)).toContain("division by zero")
          })
        )
      )

      it.live("fails with the task's typed failure", () =>
        withExecutor(
          Effect.gen(function* () {
            const error = yield* map(tasks.failWith, ["first", "second"]).pipe(Stream.runCollect, Effect.flip)
            expect(error).toMatchObject({ _tag: "SuiteError", message: "first" })
          })
        )
      )

      it.live("fails with TimeoutError when the next result is not ready in time", () =>
        withExecutor(
          Effect.gen(function* () {
            const seen: Array<unknown> = []
            const started = Date.now()
            const error = yield* map(tasks.sleepThenReturn, [0, 0, ms(900)], ["a", "b", "c"], {
              timeout: ms(350)
            }).pipe(
              Stream.runForEach((value) => Effect.sync(() => seen.push(value))),
              Effect.flip
            )
            const elapsed = Date.now() - started
            expect(Cause.isTimeoutError(error)).toBe(true)
            expect(seen).toEqual(["a", "b"])
            expect(elapsed).toBeGreaterThanOrEqual(ms(300))
            expect(elapsed).toBeLessThan(ms(800))
          })
        )
      )

      it.live("counts the timeout from when the stream starts, not from when it was built", () =>
        withExecutor(
          Effect.gen(function* () {
            const stream = map(tasks.sleepThenReturn, [ms(100)], ["late but in time"], { timeout: ms(300) })
            yield* Effect.sleep(ms(400))
            expect(yield* Stream.runCollect(stream)).toEqual(["late but in time"])
          })
        )
      )

      it.live("counts the timeout from the start, not from the previous result", () =>
        withExecutor(
          Effect.gen(function* () {
            // Each result comes 250 ms after the one before; the third comes 750 ms after the start.
            const seen: Array<unknown> = []
            const error = yield* map(tasks.sleepThenReturn, [ms(250), ms(500), ms(750)], [1, 2, 3], {
              timeout: ms(625)
            }).pipe(
              Stream.runForEach((value) => Effect.sync(() => seen.push(value))),
              Effect.flip
            )
            expect(Cause.isTimeoutError(error)).toBe(true)
            expect(seen).toEqual([1, 2])
          })
        )
      )

      it.live("with buffersize gives the same results", () =>
        withExecutor(
          Effect.gen(function* () {
            for (const buffersize of [1, 2, 4, 8]) {
              expect(yield* Stream.runCollect(map(tasks.add, range(4), range(4), { buffersize }))).toEqual([0, 2, 4, 6])
            }
            expect(yield* Stream.runCollect(map(tasks.add, [], [], { buffersize: 2 }))).toEqual([])
          })
        )
      )

      it.live("rejects a bad buffersize with IllegalArgumentError naming it", () =>
        withExecutor(
          Effect.gen(function* () {
            for (const buffersize of [0, -1, 2.5]) {
              const error = yield* map(tasks.add, [1], [2], { buffersize }).pipe(Stream.runCollect, Effect.flip)
              expect(Cause.isIllegalArgumentError(error)).toBe(true)
              expect((error as Cause.IllegalArgumentError).message).toContain("buffersize")
            }
          })
        )
      )

      it.live("over no iterables gives an empty stream, like zip()", () =>
        withExecutor(
          Effect.gen(function* () {
            const noIterables = map as (
              task: unknown,
              ...rest: Array<unknown>
            ) => Stream.Stream<unknown, unknown, Executor.Executor>
            // With buffersize first: an endless zip shows up there as one call too many, without a hang.
            const buffered = yield* noIterables(tasks.add, { buffersize: 2 }).pipe(Stream.take(1), Stream.runCollect)
            expect(buffered).toEqual([])
            const eager = yield* Stream.runCollect(noIterables(tasks.add)).pipe(Effect.timeout(ms(1000)))
            expect(eager).toEqual([])
          })
        )
      )

      it.live("with buffersize works over endless iterables", () =>
        withExecutor(
          Effect.gen(function* () {
            const first = yield* map(tasks.add, counting().values, [0, 0, 0, 0, 0], { buffersize: 2 }).pipe(
              Stream.take(3),
              Stream.runCollect
            )
            expect(first).toEqual([0, 1, 2])
            const both = yield* map(tasks.add, counting().values, counting().values, { buffersize: 2 }).pipe(
              Stream.take(3),
              Stream.runCollect
            )
            expect(both).toEqual([0, 2, 4])
          })
        )
      )

      it.live("with buffersize takes at most buffersize inputs ahead of the consumer", () =>
        Effect.gen(function* () {
          const buffersize = 2
          const { file, calls } = yield* recordFile
          const input = counting()
          const pulledAt: Array<number> = []
          yield* withExecutor(
            map(tasks.record, repeat(file), input.values, repeat(0), { buffersize }).pipe(
              Stream.take(1),
              Stream.runForEach(() => Effect.sync(() => pulledAt.push(input.state.pulled)))
            )
          )
          // Python takes `buffersize` inputs and submits them, then one more each time a result is taken
          // (test_map_buffersize_when_buffer_is_full).
          expect(pulledAt.length).toBe(1)
          expect(calls()).toBeLessThanOrEqual(buffersize + 1)
          expect(pulledAt[0]).toBeLessThanOrEqual(buffersize + 1)
          expect(input.state.pulled).toBeLessThanOrEqual(buffersize + 1)
        })
      )

      it.live("with buffersize keeps a slow consumer at most about buffersize calls behind", () =>
        Effect.gen(function* () {
          const buffersize = 3
          const { file, calls } = yield* recordFile
          const input = counting()
          const callsAt: Array<number> = []
          yield* withExecutor(
            map(tasks.record, repeat(file), input.values, repeat(0), { buffersize }).pipe(
              Stream.take(6),
              Stream.runForEach(() =>
                Effect.gen(function* () {
                  // A slow consumer: tasks finish long before their results are taken.
                  yield* Effect.sleep(ms(30))
                  callsAt.push(calls())
                })
              )
            )
          )
          expect(callsAt.length).toBe(6)
          // When the k-th result (from 1) is taken, Python has submitted at most k + buffersize calls.
          for (const [k, n] of callsAt.entries()) expect(n).toBeLessThanOrEqual(k + 1 + buffersize)
          expect(input.state.pulled).toBeLessThanOrEqual(6 + buffersize)
        })
      )

      for (const buffersize of [undefined, 8]) {
        it.live(`closing the stream early cancels the calls that have not started (buffersize ${buffersize})`, () =>
          Effect.gen(function* () {
            const { file, calls } = yield* recordFile
            // The first call ends at once; the others hold their workers for a while.
            const values = range(20)
            const sleeps = values.map((i) => (i === 0 ? 0 : ms(300)))
            const first = yield* withExecutor(
              map(tasks.record, repeat(file), values, sleeps, { buffersize }).pipe(Stream.take(1), Stream.runCollect)
            )
            expect(first).toEqual([0])
            // Closing the executor waited for what was running: every call that ever started is counted.
            // Five workers, and one of them freed by the first call, ran at most 6 calls (plus one for slack);
            // without cancellation all 20 (or, with buffersize 8, at least 8) would run.
            expect(calls()).toBeGreaterThanOrEqual(1)
            expect(calls()).toBeLessThanOrEqual(workerCount + 2)
          })
        )
      }

      it.live("does not keep the results it has emitted alive", () =>
        withExecutor(
          Effect.gen(function* () {
            const refs: Array<WeakRef<object>> = []
            const objects = function* () {
              for (let i = 0; i < 10; i++) yield { i, payload: "x".repeat(1024) }
            }
            yield* map(tasks.sleepThenReturn, range(10).fill(0), objects()).pipe(
              Stream.runForEach((obj) => Effect.sync(() => refs.push(new WeakRef(obj as object))))
            )
            expect(refs.length).toBe(10)
            expect(yield* collected(refs)).toBe(true)
          })
        )
      )
    })

    describe("shutdown", () => {
      it.live("submit after shutdown fails with ExecutorShutdownError", () =>
        withExecutor(
          Effect.gen(function* () {
            yield* Executor.shutdown()
            const error = yield* Effect.flip(submit(tasks.pow, 2, 5))
            expect(error._tag).toBe("ExecutorShutdownError")
            expect(error.message).toContain("cannot schedule new futures after shutdown")
            const mapError = yield* map(tasks.pow, [2], [5]).pipe(Stream.runCollect, Effect.flip)
            expect(mapError).toMatchObject({ _tag: "ExecutorShutdownError" })
          })
        )
      )

      it.live("shutdown waits for every submitted task, and every future has its result", () =>
        withExecutor(
          Effect.gen(function* () {
            const futures = yield* Effect.forEach(range(50), (i) => submit(tasks.sleepThenReturn, ms(20), i))
            yield* Executor.shutdown()
            for (const future of futures) expect(yield* Future.done(future)).toBe(true)
            expect(yield* Effect.forEach(futures, result)).toEqual(range(50))
          })
        )
      )

      it.live("shutdown with cancelFutures cancels many pending futures and the rest finish", () =>
        withExecutor(
          Effect.gen(function* () {
            const futures = yield* Effect.forEach(range(50), (i) => submit(tasks.sleepThenReturn, ms(100), i))
            yield* Executor.shutdown({ cancelFutures: true })
            const cancelled = yield* Effect.filter(futures, Future.cancelled)
            const others = futures.filter((f) => !cancelled.includes(f))
            expect(cancelled.length).toBeGreaterThan(20)
            expect(others.length).toBeGreaterThan(0)
            for (const future of others) {
              expect(yield* Future.done(future)).toBe(true)
              expect(Option.isNone(yield* Future.exception(future, { timeout: resultTimeout }))).toBe(true)
            }
            // The cancelled futures are CANCELLED_AND_NOTIFIED, so `wait` counts them done.
            const { done, notDone } = yield* Future.wait(futures, { timeout: resultTimeout })
            expect(done.size).toBe(50)
            expect(notDone.size).toBe(0)
          })
        )
      )

      it.live("shutdown right after map returns and the stream gives its results or ExecutorShutdownError", () =>
        withExecutor(
          Effect.gen(function* () {
            const fiber = yield* map(tasks.add, range(workerCount + 1).fill(2), range(workerCount + 1)).pipe(
              Stream.runCollect,
              Effect.forkChild({ startImmediately: true })
            )
            yield* Executor.shutdown()
            const exit = yield* Fiber.await(fiber).pipe(Effect.timeout(resultTimeout))
            if (Exit.isSuccess(exit)) expect(exit.value).toEqual(range(workerCount + 1).map((i) => i + 2))
            else expect(Cause.squash(exit.cause)).toMatchObject({ _tag: "ExecutorShutdownError" })
          })
        )
      )

      it.live("shutdown does not hang when a future was cancelled just before it", () =>
        withExecutor(
          Effect.gen(function* () {
            expect(yield* result(yield* submit(tasks.add, 1, 2))).toBe(3)
            yield* submit(tasks.sleepThenReturn, ms(50), "blocker")
            const cancelled = yield* submit(tasks.add, 3, 4)
            expect(yield* Future.cancel(cancelled)).toBe(true)
            yield* Executor.shutdown({ wait: true })
            expect(yield* Future.state(cancelled)).toBe("CANCELLED_AND_NOTIFIED")
          }),
          1
        )
      )

      it.live("shutdown twice is fine", () =>
        withExecutor(
          Effect.gen(function* () {
            const future = yield* submit(tasks.add, 1, 1)
            yield* Executor.shutdown()
            yield* Executor.shutdown()
            yield* Executor.shutdown({ wait: false, cancelFutures: true })
            expect(yield* result(future)).toBe(2)
          })
        )
      )
    })
  })
}
