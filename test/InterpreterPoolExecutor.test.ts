/**
 * The interpreter pool (worker threads): the generic executor suite, then what
 * CPython's `test_interpreter_pool.py` and `test_init.py` check of
 * `InterpreterPoolExecutor` (bad `max_workers`, saturation, idle reuse,
 * initializers), then what Tasks add: typed failures and defects across the
 * boundary, bad task references, `shared` memory, `Task.transfer`, chunked
 * `map`, `Future.interrupt` of a running task, and a Task on the thread pool.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as WorkerThreads from "node:worker_threads"
import { describe, expect, it } from "@effect/vitest"
import { Cause, Deferred, Effect, Exit, Layer, Option, Stream } from "effect"
import {
  BrokenExecutor,
  CancelledError,
  Executor,
  Future,
  InterpreterPoolExecutor,
  SerializationError,
  Task,
  ThreadPoolExecutor
} from "../src/index.ts"
import * as tasks from "./fixtures/tasks.ts"
import { executorSuite } from "./suites/executor.ts"

/** Every wait on a future is bounded, so a deadlock fails fast. */
const timeout = "10 seconds"

const range = (n: number): Array<number> => Array.from({ length: n }, (_, i) => i)

/**
 * The pool with every worker started, as CPython's `ExecutorMixin._prime_executor` does, so the
 * suite's timings do not count a thread's start (most of a second on a loaded machine).
 */
const primed = (maxWorkers: number): Layer.Layer<Executor.Executor, unknown> =>
  Layer.effect(
    Executor.Executor,
    Effect.gen(function* () {
      const executor = yield* Executor.Executor
      const futures = yield* Effect.forEach(range(maxWorkers), () => executor.submit(tasks.sleepThenReturn, 0, null))
      yield* Effect.forEach(futures, (future) => Future.result(future, { timeout }))
      return executor
    })
  ).pipe(Layer.provide(InterpreterPoolExecutor.layer({ maxWorkers })))

// Two workers at most, whatever the suite asks: a thread takes most of a second to start here.
executorSuite("InterpreterPoolExecutor", (options) => primed(Math.min(options.maxWorkers, 2)), tasks.suiteTasks, {
  timeScale: 2
})

const result = <A, E>(future: Future.Future<A, E>) => Future.result(future, { timeout })

const exitOf = <A, E>(future: Future.Future<A, E>) => Future.await(future).pipe(Effect.timeout(timeout))

/** The test body on a fresh pool (one worker unless told), shutdown included, under one deadline. */
const withPool = <A, E>(
  body: Effect.Effect<A, E, Executor.Executor>,
  options: InterpreterPoolExecutor.Options = {}
): Effect.Effect<A, unknown> =>
  body.pipe(Effect.provide(InterpreterPoolExecutor.layer({ maxWorkers: 1, ...options })), Effect.timeout("20 seconds"))

/** A fresh file, removed when the test ends, and its lines. */
const tempFile = Effect.gen(function* () {
  const dir = mkdtempSync(join(tmpdir(), "interpreter-pool-"))
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

/** The error or defect a failed exit ends with. */
const squashed = (exit: Exit.Exit<unknown, unknown>): unknown =>
  Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined

/** OS threads in this process (Linux): each worker thread is one. */
const osThreads = (): number => readdirSync("/proc/self/task").length

const fixtureUrl = new URL("./fixtures/tasks.ts", import.meta.url).href

describe("InterpreterPoolExecutor", () => {
  describe("options", () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      it.effect(`fails make with IllegalArgumentError naming maxWorkers and ${bad}`, () =>
        Effect.gen(function* () {
          const error = yield* Effect.flip(Effect.scoped(InterpreterPoolExecutor.make({ maxWorkers: bad })))
          expect(Cause.isIllegalArgumentError(error)).toBe(true)
          expect(error.message).toMatch(/^maxWorkers must be /)
          expect(error.message).toContain(`got ${bad}`)
        })
      )
    }

    it.effect("fails the layer with the same message as Python's", () =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(
          Effect.provide(Executor.shutdown(), InterpreterPoolExecutor.layer({ maxWorkers: 0 }))
        )
        expect(Cause.isIllegalArgumentError(error)).toBe(true)
        expect((error as Cause.IllegalArgumentError).message).toBe("maxWorkers must be greater than 0, got 0")
      })
    )

    for (const bad of [0, 2.5]) {
      it.effect(`fails make with IllegalArgumentError naming maxTasksPerChild and ${bad}`, () =>
        Effect.gen(function* () {
          const error = yield* Effect.flip(
            Effect.scoped(InterpreterPoolExecutor.make({ maxWorkers: 1, maxTasksPerChild: bad }))
          )
          expect(Cause.isIllegalArgumentError(error)).toBe(true)
          expect(error.message).toMatch(/^maxTasksPerChild must be /)
          expect(error.message).toContain(`got ${bad}`)
        })
      )
    }

    it.effect("fails make with IllegalArgumentError for a negative interruptGrace", () =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(Effect.scoped(InterpreterPoolExecutor.make({ interruptGrace: -1 })))
        expect(Cause.isIllegalArgumentError(error)).toBe(true)
        expect(error.message).toMatch(/^interruptGrace must be /)
      })
    )

    it.effect("fails make with IllegalArgumentError when the initializer is not a Task", () =>
      Effect.gen(function* () {
        const initializer = (() => {}) as unknown as Task.Task<[], void>
        const error = yield* Effect.flip(Effect.scoped(InterpreterPoolExecutor.make({ maxWorkers: 1, initializer })))
        expect(Cause.isIllegalArgumentError(error)).toBe(true)
        expect(error.message).toMatch(/^initializer must be a Task/)
        expect(error.message).toContain("a function")
      })
    )
  })

  describe("workers", () => {
    it.live("start lazily, and an idle one is reused for sequential tasks (test_idle_thread_reuse)", () =>
      Effect.gen(function* () {
        const { file, lines } = yield* tempFile
        yield* withPool(
          Effect.gen(function* () {
            // The initializer records each worker as it starts: none before the first submit.
            yield* Effect.sleep(200)
            expect(lines()).toEqual([])
            const ids: Array<tasks.WorkerId> = []
            for (const i of range(3)) ids.push(yield* result(yield* Executor.submit(tasks.whereAmI, i)))
            expect(new Set(ids.map((id) => id.threadId)).size).toBe(1)
            expect(ids[0].pid).toBe(process.pid)
            expect(ids[0].threadId).not.toBe(WorkerThreads.threadId)
            expect(lines()).toHaveLength(1)
          }),
          { maxWorkers: 4, initializer: tasks.initialize, initargs: ["hello", file] }
        )
      })
    )

    it.live("run at most maxWorkers at once, and all of them when saturated (test_saturation)", () => {
      const counter = new SharedArrayBuffer(16)
      const view = new Int32Array(counter)
      return withPool(
        Effect.gen(function* () {
          const futures = yield* Effect.forEach(range(30), () => Executor.submit(tasks.waitForGate, 5_000))
          yield* Effect.sleep(300)
          expect(yield* Effect.forEach(futures, Future.done)).not.toContain(true)
          Atomics.store(view, 2, 1)
          Atomics.notify(view, 2)
          const threadIds = yield* Effect.forEach(futures, result)
          expect(new Set(threadIds).size).toBe(2)
        }),
        { maxWorkers: 2, shared: { counter } }
      )
    })

    it.live("are replaced after maxTasksPerChild tasks, and every result is right (test_max_tasks_per_child)", () =>
      withPool(
        Effect.gen(function* () {
          const ids: Array<number> = []
          for (const i of range(4)) ids.push((yield* result(yield* Executor.submit(tasks.whereAmI, i))).threadId)
          expect(ids[1]).toBe(ids[0])
          expect(ids[2]).toBe(ids[0])
          expect(ids[3]).not.toBe(ids[0])
          const futures = yield* Effect.forEach(range(6), (i) => Executor.submit(tasks.mul, i, 2))
          expect(yield* Effect.forEach(futures, result)).toEqual(range(6).map((i) => i * 2))
        }),
        { maxWorkers: 1, maxTasksPerChild: 3 }
      )
    )
  })

  describe("initializer (test_init)", () => {
    it.live("runs once in each worker, with initargs, before its tasks", () =>
      Effect.gen(function* () {
        const { file, lines } = yield* tempFile
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
            expect(error).toMatchObject({ _tag: "BrokenExecutor", kind: "InterpreterPool" })
            expect((error as BrokenExecutor).reason).toContain("error in initializer")
          }
          const later = yield* Effect.flip(Executor.submit(tasks.initState, 0))
          expect(later).toMatchObject({ _tag: "BrokenExecutor", kind: "InterpreterPool" })
        }),
        { maxWorkers: 2, initializer: tasks.failingInit, initargs: ["error in initializer"] }
      )
    )

    it.live("that fails runs no task in its worker", () =>
      Effect.gen(function* () {
        const { file, lines } = yield* tempFile
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

  it.layer(InterpreterPoolExecutor.layer({ maxWorkers: 1 }), { excludeTestServices: true })(
    "what crosses back from a worker",
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

      it.effect("a thrown error is a defect with its name, message and the worker's stack (test_traceback)", () =>
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
        {
          what: "whose export is missing",
          task: Task.make(fixtureUrl, "noSuchExport", () => 1),
          mentions: [fixtureUrl, "noSuchExport"]
        },
        {
          what: "whose export is not a Task",
          task: Task.make(fixtureUrl, "plainFunction", () => 1),
          mentions: [fixtureUrl, "plainFunction", "function"]
        },
        {
          what: "whose export is another name's Task",
          task: Task.make(fixtureUrl, "addAlias", () => 1),
          mentions: [fixtureUrl, "addAlias", '"add"']
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

      it.effect("submitting a plain function or an Effect is a defect with IllegalArgumentError", () =>
        Effect.gen(function* () {
          for (const submitted of [
            Executor.submit((a: number) => a, 1),
            Executor.submit(Effect.succeed(1)),
            Stream.runCollect(Executor.map((a: number) => a, [1]))
          ] as ReadonlyArray<Effect.Effect<unknown, unknown, Executor.Executor>>) {
            const exit = yield* Effect.exit(submitted)
            expect(Exit.hasDies(exit)).toBe(true)
            const defect = squashed(exit)
            expect(Cause.isIllegalArgumentError(defect)).toBe(true)
            expect((defect as Error).message).toContain("InterpreterPoolExecutor runs Tasks")
          }
          expect(yield* result(yield* Executor.submit(tasks.add, 1, 1))).toBe(2)
        }).pipe(Effect.timeout(timeout))
      )

      it.effect("a worker's console output reaches the parent's stdout", () =>
        Effect.gen(function* () {
          const text = `hello from a worker ${Math.random()}`
          const seen = yield* Deferred.make<void>()
          const write = process.stdout.write
          process.stdout.write = ((chunk: unknown, ...rest: Array<unknown>) => {
            if (String(chunk).includes(text)) Deferred.doneUnsafe(seen, Exit.void)
            return (write as (...args: Array<unknown>) => boolean).call(process.stdout, chunk, ...rest)
          }) as typeof process.stdout.write
          yield* Effect.addFinalizer(() => Effect.sync(() => void (process.stdout.write = write)))
          yield* result(yield* Executor.submit(tasks.printLine, text))
          yield* Deferred.await(seen).pipe(Effect.timeout("2 seconds"))
        }).pipe(Effect.timeout(timeout))
      )
    }
  )

  describe("shared", () => {
    it.live("every worker sees and mutates the pool's SharedArrayBuffer", () => {
      const counter = new SharedArrayBuffer(16)
      const view = new Int32Array(counter)
      Atomics.store(view, 1, 42)
      return withPool(
        Effect.gen(function* () {
          const futures = yield* Effect.forEach(range(10), () => Executor.submit(tasks.bumpShared, 50))
          const seen = yield* Effect.forEach(futures, result)
          expect(Atomics.load(view, 0)).toBe(10)
          expect(seen.map((s) => s.before).sort((a, b) => a - b)).toEqual(range(10))
          expect(seen.every((s) => s.marker === 42)).toBe(true)
          expect(new Set(seen.map((s) => s.threadId)).size).toBe(2)
        }),
        { maxWorkers: 2, shared: { counter } }
      )
    })

    it("is an empty object outside a worker", () => {
      expect(InterpreterPoolExecutor.shared()).toEqual({})
    })
  })

  describe("Task.transfer", () => {
    it.live("moves an argument's buffer to the worker: the sender's copy is detached", () =>
      withPool(
        Effect.gen(function* () {
          const moved = new Uint8Array(1024).fill(1).buffer
          const copied = new Uint8Array(1024).fill(2).buffer
          expect(yield* result(yield* Executor.submit(tasks.sumBytes, Task.transfer(moved, [moved])))).toEqual({
            sum: 1024,
            byteLength: 1024
          })
          expect(moved.byteLength).toBe(0)
          expect(yield* result(yield* Executor.submit(tasks.sumBytes, copied))).toEqual({ sum: 2048, byteLength: 1024 })
          expect(copied.byteLength).toBe(1024)
        })
      )
    )

    it.live("moves a result's buffer out of the worker", () =>
      withPool(
        Effect.gen(function* () {
          const buffer = yield* result(yield* Executor.submit(tasks.makeBuffer, 2048, 3))
          expect(buffer).toBeInstanceOf(ArrayBuffer)
          expect(buffer.byteLength).toBe(2048)
          expect(new Uint8Array(buffer).every((b) => b === 3)).toBe(true)
          // One worker, so this runs where makeBuffer ran: its buffer there is detached.
          expect(yield* result(yield* Executor.submit(tasks.lastMadeByteLength))).toBe(0)
        })
      )
    )
  })

  describe("map", () => {
    it.live("with chunksize gives results in order, each chunk run by one worker (test_map_chunksize)", () =>
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
            const threads = new Set(tagged.slice(chunk * 5, chunk * 5 + 5).map((t) => t.threadId))
            expect(threads.size).toBe(1)
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
      "stops a running task that honours Task.signal() promptly; the future ends cancelled, the worker stays",
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
            expect(after.threadId).toBe(before.threadId)
          }),
          { interruptGrace: "5 seconds" }
        )
    )

    it.live("stops a task honouring Task.signal() promptly even while its worker is still starting", () =>
      withPool(
        Effect.gen(function* () {
          const future = yield* Executor.submit(tasks.sleepHonouringSignal, 20_000)
          yield* Effect.sleep(10)
          expect(yield* Future.running(future)).toBe(true)
          const started = Date.now()
          expect(yield* Future.interrupt(future)).toBe(true)
          expect(Date.now() - started).toBeLessThan(2_500)
          expect(yield* Future.state(future)).toBe("CANCELLED_AND_NOTIFIED")
          expect(yield* result(yield* Executor.submit(tasks.add, 1, 2))).toBe(3)
        }),
        { interruptGrace: "5 seconds" }
      )
    )

    it.live("stops a task honouring Task.signal() promptly even while its module is still loading", () => {
      // A module that takes most of a second to load (as one importing a large library does), exporting a
      // Task that sleeps until its AbortSignal fires. Built by hand: a data: URL cannot import Task.ts.
      const source = `
        await new Promise((resolve) => setTimeout(resolve, 800))
        const signalKey = Symbol.for("effect-futures/signal")
        export const slowModuleSleep = {
          "~effect-futures/Task": "~effect-futures/Task",
          name: "slowModuleSleep",
          fn: (ms) => {
            const signal = globalThis[signalKey]
            return new Promise((resolve, reject) => {
              const timer = setTimeout(() => resolve("slept"), ms)
              signal.addEventListener("abort", () => { clearTimeout(timer); reject(signal.reason) }, { once: true })
            })
          }
        }`
      const slowModuleSleep = Task.make(
        `data:text/javascript,${encodeURIComponent(source)}`,
        "slowModuleSleep",
        (_ms: number): Promise<string> => Promise.resolve("slept")
      )
      return withPool(
        Effect.gen(function* () {
          const before = yield* result(yield* Executor.submit(tasks.whereAmI, 0))
          const future = yield* Executor.submit(slowModuleSleep, 20_000)
          yield* Effect.sleep(300)
          const started = Date.now()
          expect(yield* Future.interrupt(future)).toBe(true)
          expect(Date.now() - started).toBeLessThan(3_500)
          expect(yield* Future.state(future)).toBe("CANCELLED_AND_NOTIFIED")
          expect((yield* result(yield* Executor.submit(tasks.whereAmI, 0))).threadId).toBe(before.threadId)
        }),
        { interruptGrace: "5 seconds" }
      )
    })

    it.live(
      "replaces the worker of a busy task that ignores the signal after interruptGrace; the pool stays healthy",
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
            expect(after.threadId).not.toBe(before.threadId)
          }),
          { interruptGrace: 200 }
        )
    )

    it.live("interrupts an Effect task inside the worker, running its finalizers", () =>
      Effect.gen(function* () {
        const { file, lines } = yield* tempFile
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
            expect(after.threadId).toBe(before.threadId)
          }),
          { interruptGrace: "5 seconds" }
        )
      })
    )
  })

  describe("shutdown", () => {
    it.live("with wait returns once running tasks are done and the worker threads are gone", () =>
      Effect.scoped(
        Effect.gen(function* () {
          const pool = yield* InterpreterPoolExecutor.make({ maxWorkers: 2 })
          // Both workers up, then two more tasks on them.
          yield* Effect.forEach(yield* Effect.forEach(range(2), () => pool.submit(tasks.whereAmI, 200)), result)
          const during = osThreads()
          const futures = yield* Effect.forEach(range(2), () => pool.submit(tasks.whereAmI, 500))
          yield* pool.shutdown({ wait: true })
          for (const future of futures) expect(yield* Future.state(future)).toBe("FINISHED")
          expect(osThreads()).toBeLessThanOrEqual(during - 2)
          expect(yield* Effect.flip(pool.submit(tasks.add, 1, 2))).toMatchObject({ _tag: "ExecutorShutdownError" })
        })
      ).pipe(Effect.timeout("20 seconds"))
    )
  })
})

describe("a Task on ThreadPoolExecutor", () => {
  it.live("runs in-process, its typed failures and defects as on a worker pool", () =>
    Effect.gen(function* () {
      expect(yield* result(yield* Executor.submit(tasks.add, 20, 22))).toBe(42)
      expect(yield* result(yield* Executor.submit(tasks.whereAmI, 0))).toEqual({
        pid: process.pid,
        threadId: WorkerThreads.threadId
      })
      expect(yield* Stream.runCollect(Executor.map(tasks.mul, [1, 2, 3], [4, 5, 6], { chunksize: 2 }))).toEqual([
        4, 10, 18
      ])
      const error = yield* Effect.flip(result(yield* Executor.submit(tasks.failTyped, "bad", 7)))
      expect(error).toBeInstanceOf(tasks.PoolError)
      expect(error).toMatchObject({ _tag: "PoolError", message: "bad", code: 7 })
      const exit = yield* exitOf(yield* Executor.submit(tasks.throwError, "thrown"))
      expect(squashed(exit)).toBeInstanceOf(tasks.TaskError)
      const buffer = yield* result(yield* Executor.submit(tasks.makeBuffer, 16, 9))
      expect(new Uint8Array(buffer)).toEqual(new Uint8Array(16).fill(9))
    }).pipe(Effect.provide(ThreadPoolExecutor.layer({ maxWorkers: 2 })), Effect.timeout(timeout))
  )
})
