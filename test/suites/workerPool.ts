/**
 * The tests both worker pools must pass, beyond the generic executor suite:
 * what CPython's `test_init.py` checks of initializers, what crosses back
 * from a worker (typed failures, defects, bad task references), chunked
 * `map` and `Future.interrupt` of a running task. Call
 * `workerPoolSuite(name, options)` once per pool, as `executorSuite` is; the
 * helpers below serve the pools' own test files too.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit, Layer, Option, type Scope, Stream } from "effect"
import {
  BrokenExecutor,
  CancelledError,
  Executor,
  Future,
  type InterpreterPoolExecutor,
  SerializationError,
  Task
} from "../../src/index.ts"
import * as tasks from "../fixtures/tasks.ts"

/** Every wait on a future is bounded, so a deadlock fails fast. */
export const timeout = "10 seconds"

export const range = (n: number): Array<number> => Array.from({ length: n }, (_, i) => i)

export const result = <A, E>(future: Future.Future<A, E>) => Future.result(future, { timeout })

export const exitOf = <A, E>(future: Future.Future<A, E>) => Future.await(future).pipe(Effect.timeout(timeout))

/** The error or defect a failed exit ends with. */
export const squashed = (exit: Exit.Exit<unknown, unknown>): unknown =>
  Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined

export const fixtureUrl = new URL("../fixtures/tasks.ts", import.meta.url).href

/** A fresh file (in a folder named from `prefix`), removed when the test ends, and its lines. */
export const tempFile = (prefix: string) =>
  Effect.gen(function* () {
    const dir = mkdtempSync(join(tmpdir(), prefix))
    yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
    const file = join(dir, "lines.txt")
    const lines = (): Array<string> => {
      try {
        return readFileSync(file, "utf8")
          .split("\n")
          .filter((line) => line.length > 0)
      } catch {
        return []
      }
    }
    return { file, lines }
  })

/**
 * The pool `layer` builds with every worker started, as CPython's `ExecutorMixin._prime_executor`
 * does, so the suite's timings do not count a worker's start (most of a second on a loaded machine).
 */
export const primed = (
  layer: (options: { readonly maxWorkers: number }) => Layer.Layer<Executor.Executor, unknown>,
  maxWorkers: number
): Layer.Layer<Executor.Executor, unknown> =>
  Layer.effect(
    Executor.Executor,
    Effect.gen(function* () {
      const executor = yield* Executor.Executor
      const futures = yield* Effect.forEach(range(maxWorkers), () => executor.submit(tasks.sleepThenReturn, 0, null))
      yield* Effect.forEach(futures, (future) => Future.result(future, { timeout }))
      return executor
    })
  ).pipe(Layer.provide(layer({ maxWorkers })))

/**
 * `withPool(body, options)`: the test body on a fresh pool from `layer` (one worker unless told),
 * shutdown included, under one deadline.
 */
export const withPoolOf =
  <O extends { readonly maxWorkers?: number | undefined }>(
    layer: (options: O) => Layer.Layer<Executor.Executor, unknown>
  ) =>
  <A, E>(body: Effect.Effect<A, E, Executor.Executor>, options: O = {} as O): Effect.Effect<A, unknown> =>
    body.pipe(Effect.provide(layer({ maxWorkers: 1, ...options })), Effect.timeout("20 seconds"))

/** The options both pools take. */
export type WorkerPoolOptions = Pick<
  InterpreterPoolExecutor.Options,
  "maxWorkers" | "initializer" | "initargs" | "maxTasksPerChild" | "interruptGrace"
>

/** Options of `workerPoolSuite`. */
export interface WorkerPoolSuiteOptions {
  /** The pool's `make`. */
  readonly make: (
    options: WorkerPoolOptions
  ) => Effect.Effect<Executor.Service, Cause.IllegalArgumentError | BrokenExecutor, Scope.Scope>
  /** The pool's `layer`. */
  readonly layer: (options: WorkerPoolOptions) => Layer.Layer<Executor.Executor, unknown>
  /** The `kind` of the pool's `BrokenExecutor`. */
  readonly kind: BrokenExecutor["kind"]
  /** What the test names call one of the pool's workers: "worker", "child". */
  readonly worker: string
  /** Which worker ran a task, from where it says it ran: a thread id, a pid. */
  readonly workerOf: (id: tasks.WorkerId) => number
  /** Whether a worker (from where it said it ran) is still there, where the pool can tell. */
  readonly isAlive?: ((id: tasks.WorkerId) => boolean) | undefined
  /** A `maxWorkers` for which `layer` fails, and the message it fails with says so. */
  readonly badLayerMaxWorkers: number
  /** A prefix for the tests' temporary folders. */
  readonly tempPrefix: string
}

/** Runs the tests both worker pools must pass on the pool `options` describes. */
export const workerPoolSuite = (name: string, options: WorkerPoolSuiteOptions): void => {
  const { kind, worker, workerOf } = options
  const withPool = withPoolOf(options.layer)
  const tempFile_ = tempFile(options.tempPrefix)

  describe(`${name} (worker pool suite)`, () => {
    describe("options", () => {
      for (const bad of [0, -1, 1.5, Number.NaN]) {
        it.effect(`fails make with IllegalArgumentError naming maxWorkers and ${bad}`, () =>
          Effect.gen(function* () {
            const error = yield* Effect.flip(Effect.scoped(options.make({ maxWorkers: bad })))
            expect(Cause.isIllegalArgumentError(error)).toBe(true)
            expect(error.message).toMatch(new RegExp(`^${name}: maxWorkers must be `))
            expect(error.message).toContain(`got ${bad}`)
          })
        )
      }

      it.effect("fails the layer with the same message as Python's", () =>
        Effect.gen(function* () {
          const bad = options.badLayerMaxWorkers
          const error = yield* Effect.flip(Effect.provide(Executor.shutdown(), options.layer({ maxWorkers: bad })))
          expect(Cause.isIllegalArgumentError(error)).toBe(true)
          expect((error as Cause.IllegalArgumentError).message).toBe(
            `${name}: maxWorkers must be greater than 0, got ${bad}`
          )
        })
      )

      it.effect("fails make with IllegalArgumentError when the initializer is not a Task", () =>
        Effect.gen(function* () {
          const initializer = tasks.plainFunction as unknown as Task.Task<[], void>
          const error = yield* Effect.flip(Effect.scoped(options.make({ maxWorkers: 1, initializer })))
          expect(Cause.isIllegalArgumentError(error)).toBe(true)
          expect(error.message).toMatch(new RegExp(`^${name}: initializer must be a Task`))
          expect(error.message).toContain("a function")
        })
      )
    })

    describe("initializer (test_init)", () => {
      it.live("runs once in each worker, with initargs, before its tasks", () =>
        Effect.gen(function* () {
          const { file, lines } = yield* tempFile_
          yield* withPool(
            Effect.gen(function* () {
              // Two at once start both workers; two more reuse them.
              const first = yield* Effect.forEach(range(2), () => Executor.submit(tasks.initState, 300))
              const states = yield* Effect.forEach(first, result)
              for (const i of range(2)) states.push(yield* result(yield* Executor.submit(tasks.initState, i)))
              for (const state of states) expect(state).toMatchObject({ greeting: "initialized", initCount: 1 })
              const workers = new Set(states.map((s) => `${s.pid}:${s.threadId}`))
              expect(workers.size).toBe(2)
              expect(new Set(lines())).toEqual(workers)
            }),
            { maxWorkers: 2, initializer: tasks.initialize, initargs: ["initialized", file] }
          )
        })
      )

      it.live("that fails breaks the pool: pending futures and later submits fail with BrokenExecutor", () =>
        withPool(
          Effect.gen(function* () {
            const futures = yield* Effect.forEach(range(3), () => Executor.submit(tasks.initState, 0))
            for (const future of futures) {
              const error = yield* Effect.flip(result(future))
              expect(error).toBeInstanceOf(BrokenExecutor)
              expect(error).toMatchObject({ _tag: "BrokenExecutor", kind })
              expect((error as BrokenExecutor).reason).toContain("error in initializer")
            }
            const later = yield* Effect.flip(Executor.submit(tasks.initState, 0))
            expect(later).toMatchObject({ _tag: "BrokenExecutor", kind })
          }),
          { maxWorkers: 2, initializer: tasks.failingInit, initargs: ["error in initializer"] }
        )
      )

      it.live("that fails runs no task in its worker", () =>
        Effect.gen(function* () {
          const { file, lines } = yield* tempFile_
          yield* withPool(
            Effect.gen(function* () {
              const future = yield* Executor.submit(tasks.record, file, 1, 0)
              expect(yield* Effect.flip(result(future))).toMatchObject({ _tag: "BrokenExecutor" })
              yield* Effect.sleep(300)
              expect(lines()).toEqual([])
            }),
            { initializer: tasks.failingInit, initargs: ["error in initializer"] }
          )
        })
      )
    })

    it.layer(options.layer({ maxWorkers: 1 }), { excludeTestServices: true })(
      `what crosses back from a ${worker}`,
      (it) => {
        it.effect("a typed failure declared with a Schema comes back as an instance of its class", () =>
          Effect.gen(function* () {
            const future = yield* Executor.submit(tasks.failTyped, "bad input", 7)
            const error = yield* Effect.flip(result(future))
            expect(error).toBeInstanceOf(tasks.PoolError)
            expect(error).toMatchObject({ _tag: "PoolError", message: "bad input", code: 7 })
            const caught = yield* result(future).pipe(
              Effect.catchTag("PoolError", (e) => Effect.succeed(`caught ${e.message} ${e.code}`))
            )
            expect(caught).toBe("caught bad input 7")
          }).pipe(Effect.timeout(timeout))
        )

        it.effect("a typed failure without a Schema keeps its _tag and fields, so catchTag works", () =>
          Effect.gen(function* () {
            const future = yield* Executor.submit(tasks.failUntyped, "no schema", 3)
            const error = yield* Effect.flip(result(future))
            expect(error).toMatchObject({ _tag: "PlainError", message: "no schema", code: 3 })
            const caught = yield* result(future).pipe(Effect.catchTag("PlainError", (e) => Effect.succeed(e.code)))
            expect(caught).toBe(3)
          }).pipe(Effect.timeout(timeout))
        )

        it.effect(`a thrown error is a defect with its name, message and the ${worker}'s stack (test_traceback)`, () =>
          Effect.gen(function* () {
            const future = yield* Executor.submit(tasks.throwError, "123 some comment")
            const exit = yield* exitOf(future)
            expect(Exit.hasDies(exit)).toBe(true)
            const defect = squashed(exit) as Error
            expect(defect).toBeInstanceOf(Error)
            expect(defect.name).toBe("TaskError")
            expect(defect.message).toBe("123 some comment")
            expect(defect.stack).toContain("test/fixtures/tasks.ts")
            const exception = yield* Future.exception(future, { timeout })
            expect(Option.getOrUndefined(exception)).toBe(defect)
          }).pipe(Effect.timeout(timeout))
        )

        it.effect("a result that cannot be cloned fails only its future with SerializationError", () =>
          Effect.gen(function* () {
            const error = yield* Effect.flip(result(yield* Executor.submit(tasks.returnFunction)))
            expect(error).toBeInstanceOf(SerializationError)
            expect(error).toMatchObject({ _tag: "SerializationError", direction: "result" })
            expect((error as unknown as SerializationError).valueType).toContain("function")
            expect(yield* result(yield* Executor.submit(tasks.add, 1, 2))).toBe(3)
          }).pipe(Effect.timeout(timeout))
        )

        const badReferences = [
          {
            what: "whose module cannot be imported",
            task: Task.make("file:///nonexistent/effect-futures/missing.ts", "missingTask", () => 1),
            mentions: ["file:///nonexistent/effect-futures/missing.ts", "missingTask"]
          },
          // Made here, not by the module they name: only the worker can check them, and its error lists
          // the module's Task exports.
          {
            what: "whose export is missing",
            task: Task.make(fixtureUrl, "noSuchExport", () => 1),
            mentions: [fixtureUrl, "noSuchExport", "its Task exports: add, ", "whereAmI"]
          },
          {
            what: "whose export is not a Task",
            task: Task.make(fixtureUrl, "plainFunction", () => 1),
            mentions: [fixtureUrl, "plainFunction", "function", "its Task exports: add, "]
          },
          {
            what: "whose export is another name's Task",
            task: Task.make(fixtureUrl, "addAlias", () => 1),
            mentions: [fixtureUrl, "addAlias", '"add"', 'addAlias (made as "add")']
          }
        ]
        for (const { mentions, task, what } of badReferences) {
          it.effect(`a Task ${what} fails its future with a defect naming it, and the pool stays healthy`, () =>
            Effect.gen(function* () {
              const exit = yield* exitOf(yield* Executor.submit(task))
              expect(Exit.hasDies(exit)).toBe(true)
              const defect = squashed(exit) as Error
              for (const text of mentions) expect(defect.message).toContain(text)
              expect(yield* result(yield* Executor.submit(tasks.add, 20, 22))).toBe(42)
            }).pipe(Effect.timeout(timeout))
          )
        }

        it.effect(
          "a Task its own module exports under another name makes the first submit die, listing the Task exports",
          () =>
            Effect.gen(function* () {
              // The parent has the module loaded (it made the Task), so it checks before any worker does.
              for (const submitted of [
                Executor.submit(tasks.misnamed, 1),
                Executor.submit(tasks.misnamed, 1),
                Stream.runCollect(Executor.map(tasks.misnamed, [1]))
              ] as ReadonlyArray<Effect.Effect<unknown, unknown, Executor.Executor>>) {
                const exit = yield* Effect.exit(submitted)
                expect(Exit.hasDies(exit)).toBe(true)
                const defect = squashed(exit)
                expect(Cause.isIllegalArgumentError(defect)).toBe(true)
                const message = (defect as Error).message
                expect(message).toContain(`${fixtureUrl} has no export "misnamedTask" made with Task.make`)
                expect(message).toContain('misnamed (made as "misnamedTask")')
                expect(message).toContain("its Task exports: add, ")
              }
              expect(yield* result(yield* Executor.submit(tasks.add, 1, 1))).toBe(2)
            }).pipe(Effect.timeout(timeout))
        )

        it.effect(
          "a plain function or an Effect makes submit itself die, or the map, with an IllegalArgumentError",
          () =>
            Effect.gen(function* () {
              for (const submitted of [
                Executor.submit((a: number) => a, 1),
                Executor.submit(Effect.succeed(1)),
                Executor.submitWith({ priority: 1 })((a: number) => a, 1),
                Stream.runCollect(Executor.map((a: number) => a, [1]))
              ] as ReadonlyArray<Effect.Effect<unknown, unknown, Executor.Executor>>) {
                const exit = yield* Effect.exit(submitted)
                expect(Exit.hasDies(exit)).toBe(true)
                const defect = squashed(exit)
                expect(Cause.isIllegalArgumentError(defect)).toBe(true)
                expect((defect as Error).message).toContain(`${name} runs Tasks`)
              }
              expect(yield* result(yield* Executor.submit(tasks.add, 1, 1))).toBe(2)
            }).pipe(Effect.timeout(timeout))
        )
      }
    )

    describe("map", () => {
      it.live(`with chunksize gives results in order, each chunk run by one ${worker} (test_map_chunksize)`, () =>
        withPool(
          Effect.gen(function* () {
            const expected = range(40).map((i) => i ** i)
            for (const chunksize of [6, 50, 40]) {
              expect(yield* Stream.runCollect(Executor.map(tasks.pow, range(40), range(40), { chunksize }))).toEqual(
                expected
              )
            }
            const tagged = yield* Stream.runCollect(Executor.map(tasks.tagWithWorker, range(20), { chunksize: 5 }))
            expect(tagged.map((t) => t.value)).toEqual(range(20))
            for (const chunk of range(4)) {
              expect(new Set(tagged.slice(chunk * 5, chunk * 5 + 5).map(workerOf)).size).toBe(1)
            }
            const error = yield* Executor.map(tasks.pow, range(40), range(40), { chunksize: -1 }).pipe(
              Stream.runCollect,
              Effect.flip
            )
            expect(Cause.isIllegalArgumentError(error)).toBe(true)
            expect((error as Cause.IllegalArgumentError).message).toContain("chunksize")
          }),
          { maxWorkers: 2 }
        )
      )

      it.live("Stream.take(n) ends cleanly with n results when later inputs fail, with or without chunksize", () =>
        withPool(
          Effect.gen(function* () {
            // Inputs 3 on fail; the first three succeed. A chunk of 2 or 4 holds both kinds.
            const divisors = [1, 1, 1, 0, 0, 0, 0, 0]
            for (const options of [
              {},
              { buffersize: 2 },
              { chunksize: 2 },
              { chunksize: 4 },
              { chunksize: 4, buffersize: 1 }
            ]) {
              const taken = yield* Executor.map(tasks.divide, [3, 6, 9, 1, 1, 1, 1, 1], divisors, options).pipe(
                Stream.take(3),
                Stream.runCollect,
                Effect.exit,
                Effect.timeout(timeout)
              )
              expect(taken, JSON.stringify(options)).toStrictEqual(Exit.succeed([3, 6, 9]))
            }
            // Read further, the first failure ends the stream after the results before it.
            const seen: Array<unknown> = []
            const exit = yield* Executor.map(tasks.divide, [3, 6, 9, 1, 1], [1, 1, 1, 0, 0], { chunksize: 4 }).pipe(
              Stream.runForEach((n) => Effect.sync(() => seen.push(n))),
              Effect.exit,
              Effect.timeout(timeout)
            )
            expect(seen).toEqual([3, 6, 9])
            expect((squashed(exit) as Error).message).toContain("division by zero")
          }),
          { maxWorkers: 2 }
        )
      )

      it.live("with chunksize and buffersize gives the same results", () =>
        withPool(
          Effect.gen(function* () {
            const out = yield* Stream.runCollect(
              Executor.map(tasks.add, range(25), range(25), { chunksize: 4, buffersize: 2 })
            )
            expect(out).toEqual(range(25).map((i) => 2 * i))
          })
        )
      )
    })

    describe("Future.interrupt", () => {
      it.live(
        `stops a running task that honours Task.signal() promptly; the future ends cancelled, the ${worker} stays`,
        () =>
          withPool(
            Effect.gen(function* () {
              const before = yield* result(yield* Executor.submit(tasks.whereAmI, 0))
              const future = yield* Executor.submit(tasks.sleepHonouringSignal, 20_000)
              yield* Effect.sleep(200)
              expect(yield* Future.running(future)).toBe(true)
              const started = Date.now()
              expect(yield* Future.interrupt(future)).toBe(true)
              expect(Date.now() - started).toBeLessThan(2_000)
              expect(yield* Future.state(future)).toBe("CANCELLED_AND_NOTIFIED")
              expect(yield* Effect.flip(result(future))).toBeInstanceOf(CancelledError)
              const after = yield* result(yield* Executor.submit(tasks.whereAmI, 0))
              expect(workerOf(after)).toBe(workerOf(before))
            }),
            { interruptGrace: "5 seconds" }
          )
      )

      it.live(
        `replaces the ${worker} of a busy task that ignores the signal after interruptGrace; the pool stays healthy`,
        () =>
          withPool(
            Effect.gen(function* () {
              const before = yield* result(yield* Executor.submit(tasks.whereAmI, 0))
              const future = yield* Executor.submit(tasks.busyLoop, 15_000)
              yield* Effect.sleep(200)
              const started = Date.now()
              expect(yield* Future.interrupt(future)).toBe(true)
              const elapsed = Date.now() - started
              expect(elapsed).toBeGreaterThanOrEqual(150)
              expect(elapsed).toBeLessThan(3_000)
              expect(yield* Future.state(future)).toBe("CANCELLED_AND_NOTIFIED")
              const after = yield* result(yield* Executor.submit(tasks.whereAmI, 0))
              expect(workerOf(after)).not.toBe(workerOf(before))
              if (options.isAlive !== undefined) expect(options.isAlive(before)).toBe(false)
            }),
            { interruptGrace: 200 }
          )
      )

      it.live(`interrupts an Effect task inside the ${worker}, running its finalizers`, () =>
        Effect.gen(function* () {
          const { file, lines } = yield* tempFile_
          yield* withPool(
            Effect.gen(function* () {
              const before = yield* result(yield* Executor.submit(tasks.whereAmI, 0))
              const future = yield* Executor.submit(tasks.sleepEffect, 20_000, file)
              yield* Effect.sleep(200)
              const started = Date.now()
              expect(yield* Future.interrupt(future)).toBe(true)
              expect(Date.now() - started).toBeLessThan(2_000)
              expect(yield* Future.state(future)).toBe("CANCELLED_AND_NOTIFIED")
              expect(lines()).toEqual(["interrupted"])
              const after = yield* result(yield* Executor.submit(tasks.whereAmI, 0))
              expect(workerOf(after)).toBe(workerOf(before))
            }),
            { interruptGrace: "5 seconds" }
          )
        })
      )
    })
  })
}
