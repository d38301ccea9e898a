/**
 * The process pool (child processes): the generic executor suite, then what
 * CPython's `test_process_pool.py` and `test_init.py` check of
 * `ProcessPoolExecutor` (bad `max_workers`, saturation, idle reuse,
 * `max_tasks_per_child`, initializers, the child's traceback,
 * `terminate_workers`/`kill_workers`), then what Tasks and processes add:
 * typed failures across the boundary, `Future.interrupt` of a running task,
 * the children's environment and Node options, and no child left behind.
 */
import { mkdtempSync, readFileSync, realpathSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit, Layer, Stream } from "effect"
import {
  BrokenExecutor,
  CancelledError,
  Executor,
  Future,
  ProcessPoolExecutor,
  SerializationError,
  Task
} from "../src/index.ts"
import * as tasks from "./fixtures/tasks.ts"
import { executorSuite } from "./suites/executor.ts"

/** Every wait on a future is bounded, so a deadlock fails fast. */
const timeout = "10 seconds"

const range = (n: number): Array<number> => Array.from({ length: n }, (_, i) => i)

/**
 * The pool with every worker started, as CPython's `ExecutorMixin._prime_executor` does, so the
 * suite's timings do not count a process's start (most of a second on a loaded machine).
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
  ).pipe(Layer.provide(ProcessPoolExecutor.layer({ maxWorkers })))

// Two workers at most, whatever the suite asks: a child takes most of a second to start here.
executorSuite("ProcessPoolExecutor", (options) => primed(Math.min(options.maxWorkers, 2)), tasks.suiteTasks, {
  timeScale: 2
})

const result = <A, E>(future: Future.Future<A, E>) => Future.result(future, { timeout })

const exitOf = <A, E>(future: Future.Future<A, E>) => Future.await(future).pipe(Effect.timeout(timeout))

/** The test body on a fresh pool (one worker unless told), shutdown included, under one deadline. */
const withPool = <A, E>(
  body: Effect.Effect<A, E, Executor.Executor>,
  options: ProcessPoolExecutor.Options = {}
): Effect.Effect<A, unknown> =>
  body.pipe(Effect.provide(ProcessPoolExecutor.layer({ maxWorkers: 1, ...options })), Effect.timeout("20 seconds"))

/** The test body with a fresh pool (one worker unless told) in hand, closed at its end, under one deadline. */
const withProcessPool = <A, E>(
  body: (pool: ProcessPoolExecutor.ProcessPoolExecutor) => Effect.Effect<A, E>,
  options: ProcessPoolExecutor.Options = {}
): Effect.Effect<A, unknown> =>
  Effect.scoped(Effect.flatMap(ProcessPoolExecutor.make({ maxWorkers: 1, ...options }), body)).pipe(
    Effect.timeout("20 seconds")
  )

/** A fresh file, removed when the test ends, and its lines. */
const tempFile = Effect.gen(function* () {
  const dir = mkdtempSync(join(tmpdir(), "process-pool-"))
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

/** Whether a process with this pid exists: `process.kill(pid, 0)` throws ESRCH once it is gone. */
const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== "ESRCH"
  }
}

const fixtureUrl = new URL("./fixtures/tasks.ts", import.meta.url).href

describe("ProcessPoolExecutor", () => {
  describe("options", () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      it.effect(`fails make with IllegalArgumentError naming maxWorkers and ${bad}`, () =>
        Effect.gen(function* () {
          const error = yield* Effect.flip(Effect.scoped(ProcessPoolExecutor.make({ maxWorkers: bad })))
          expect(Cause.isIllegalArgumentError(error)).toBe(true)
          expect(error.message).toMatch(/^maxWorkers must be /)
          expect(error.message).toContain(`got ${bad}`)
        })
      )
    }

    it.effect("fails the layer with the same message as Python's", () =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(
          Effect.provide(Executor.shutdown(), ProcessPoolExecutor.layer({ maxWorkers: -1 }))
        )
        expect(Cause.isIllegalArgumentError(error)).toBe(true)
        expect((error as Cause.IllegalArgumentError).message).toBe("maxWorkers must be greater than 0, got -1")
      })
    )

    it.effect("fails make with IllegalArgumentError naming maxTasksPerChild", () =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(
          Effect.scoped(ProcessPoolExecutor.make({ maxWorkers: 1, maxTasksPerChild: 0 }))
        )
        expect(Cause.isIllegalArgumentError(error)).toBe(true)
        expect(error.message).toMatch(/^maxTasksPerChild must be .*got 0$/)
      })
    )

    it.effect("fails make with IllegalArgumentError when the initializer is not a Task", () =>
      Effect.gen(function* () {
        const initializer = tasks.plainFunction as unknown as Task.Task<[], void>
        const error = yield* Effect.flip(Effect.scoped(ProcessPoolExecutor.make({ maxWorkers: 1, initializer })))
        expect(Cause.isIllegalArgumentError(error)).toBe(true)
        expect(error.message).toMatch(/^initializer must be a Task/)
        expect(error.message).toContain("a function")
      })
    )
  })

  describe("workers", () => {
    it.live("start lazily, and an idle one is reused for sequential tasks (test_idle_process_reuse_one)", () =>
      Effect.gen(function* () {
        const { file, lines } = yield* tempFile
        yield* withPool(
          Effect.gen(function* () {
            // The initializer records each worker as it starts: none before the first submit.
            yield* Effect.sleep(200)
            expect(lines()).toEqual([])
            const pids: Array<number> = []
            for (const i of range(3)) pids.push((yield* result(yield* Executor.submit(tasks.whereAmI, i))).pid)
            expect(new Set(pids).size).toBe(1)
            expect(pids[0]).not.toBe(process.pid)
            expect(lines()).toHaveLength(1)
          }),
          { maxWorkers: 4, initializer: tasks.initialize, initargs: ["hello", file] }
        )
      })
    )

    it.live("reuse idle workers before starting more (test_idle_process_reuse_multiple)", () =>
      withPool(
        Effect.gen(function* () {
          const pid = (future: Future.Future<tasks.WorkerId, unknown>) => Effect.map(result(future), (id) => id.pid)
          const seen = [yield* pid(yield* Executor.submit(tasks.whereAmI, 0))]
          const second = yield* Executor.submit(tasks.whereAmI, 0)
          seen.push(yield* pid(yield* Executor.submit(tasks.whereAmI, 0)))
          const fourth = yield* Executor.submit(tasks.whereAmI, 0)
          seen.push(yield* pid(yield* Executor.submit(tasks.whereAmI, 0)))
          const sixth = yield* Executor.submit(tasks.whereAmI, 0)
          for (const future of [second, fourth, sixth]) seen.push(yield* pid(future))
          expect(new Set(seen).size).toBeLessThanOrEqual(3)
        }),
        { maxWorkers: 4 }
      )
    )

    it.live("run at most maxWorkers at once, and all of them when saturated (test_saturation)", () =>
      withPool(
        Effect.gen(function* () {
          const futures = yield* Effect.forEach(range(30), () => Executor.submit(tasks.whereAmI, 20))
          const pids = new Set((yield* Effect.forEach(futures, result)).map((id) => id.pid))
          expect(pids.size).toBe(2)
        }),
        { maxWorkers: 2 }
      )
    )
  })

  describe("maxTasksPerChild", () => {
    it.live("replaces a worker after that many tasks (test_max_tasks_per_child)", () =>
      withPool(
        Effect.gen(function* () {
          const pids: Array<number> = []
          for (const i of range(4)) pids.push((yield* result(yield* Executor.submit(tasks.whereAmI, i))).pid)
          expect(pids[1]).toBe(pids[0])
          expect(pids[2]).toBe(pids[0])
          expect(pids[3]).not.toBe(pids[0])
          expect(isAlive(pids[0])).toBe(false)
        }),
        { maxWorkers: 1, maxTasksPerChild: 3 }
      )
    )

    it.live("runs a backlog on replacement workers, every result right (gh-115634)", () =>
      withPool(
        Effect.gen(function* () {
          const futures = yield* Effect.forEach(range(6), (i) => Executor.submit(tasks.mul, i, 2))
          expect(yield* Effect.forEach(futures, result)).toEqual(range(6).map((i) => i * 2))
        }),
        { maxWorkers: 2, maxTasksPerChild: 2 }
      )
    )

    it.live("shutdown right after submitting still runs every task (test_max_tasks_early_shutdown)", () =>
      withPool(
        Effect.gen(function* () {
          const futures = yield* Effect.forEach(range(4), (i) => Executor.submit(tasks.mul, i, i))
          yield* Executor.shutdown()
          expect(yield* Effect.forEach(futures, result)).toEqual(range(4).map((i) => i * i))
        }),
        { maxWorkers: 2, maxTasksPerChild: 1 }
      )
    )

    it.live("shutdown without waiting still replaces a retiring worker for the queued tasks (gh-119592)", () =>
      withPool(
        Effect.gen(function* () {
          const futures = yield* Effect.forEach(range(3), (i) =>
            Executor.submit(tasks.sleepThenReturn, i === 0 ? 300 : 0, i)
          )
          yield* Effect.sleep(50)
          yield* Executor.shutdown({ wait: false })
          expect(yield* Effect.forEach(futures, result)).toEqual([0, 1, 2])
        }),
        { maxWorkers: 1, maxTasksPerChild: 1 }
      )
    )
  })

  describe("initializer (test_init)", () => {
    it.live("runs once in each worker, with initargs, before its tasks", () =>
      Effect.gen(function* () {
        const { file, lines } = yield* tempFile
        yield* withPool(
          Effect.gen(function* () {
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
            expect(error).toMatchObject({ _tag: "BrokenExecutor", kind: "ProcessPool" })
            expect((error as BrokenExecutor).reason).toContain("error in initializer")
          }
          const later = yield* Effect.flip(Executor.submit(tasks.initState, 0))
          expect(later).toMatchObject({ _tag: "BrokenExecutor", kind: "ProcessPool" })
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

  it.layer(ProcessPoolExecutor.layer({ maxWorkers: 1 }), { excludeTestServices: true })(
    "what crosses back from a child",
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
          expect(yield* Effect.flip(result(future))).toMatchObject({
            _tag: "PlainError",
            message: "no schema",
            code: 3
          })
          const caught = yield* result(future).pipe(Effect.catchTag("PlainError", (e) => Effect.succeed(e.code)))
          expect(caught).toBe(3)
        }).pipe(Effect.timeout(timeout))
      )

      it.effect("a thrown error is a defect with its name, message and the child's stack (test_traceback)", () =>
        Effect.gen(function* () {
          const exit = yield* exitOf(yield* Executor.submit(tasks.throwError, "123 some comment"))
          expect(Exit.hasDies(exit)).toBe(true)
          const defect = squashed(exit) as Error
          expect(defect).toBeInstanceOf(Error)
          expect(defect.name).toBe("TaskError")
          expect(defect.message).toBe("123 some comment")
          expect(defect.stack).toContain("test/fixtures/tasks.ts")
        }).pipe(Effect.timeout(timeout))
      )

      it.effect("a result that cannot be cloned fails only its future with SerializationError", () =>
        Effect.gen(function* () {
          const error = yield* Effect.flip(result(yield* Executor.submit(tasks.returnFunction)))
          expect(error).toBeInstanceOf(SerializationError)
          expect(error).toMatchObject({ _tag: "SerializationError", direction: "result" })
          expect(yield* result(yield* Executor.submit(tasks.add, 1, 2))).toBe(3)
        }).pipe(Effect.timeout(timeout))
      )

      for (const { mentions, task, what } of [
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
          mentions: [fixtureUrl, "plainFunction"]
        }
      ]) {
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
            expect((defect as Error).message).toContain("ProcessPoolExecutor runs Tasks")
          }
        }).pipe(Effect.timeout(timeout))
      )

      it.effect("Task.transfer copies to a child: the values arrive and the sender keeps its buffer", () =>
        Effect.gen(function* () {
          const buffer = new Uint8Array(1024).fill(1).buffer
          expect(yield* result(yield* Executor.submit(tasks.sumBytes, Task.transfer(buffer, [buffer])))).toEqual({
            sum: 1024,
            byteLength: 1024
          })
          expect(buffer.byteLength).toBe(1024)
          const made = yield* result(yield* Executor.submit(tasks.makeBuffer, 2048, 3))
          expect(new Uint8Array(made)).toEqual(new Uint8Array(2048).fill(3))
        }).pipe(Effect.timeout(timeout))
      )
    }
  )

  describe("map", () => {
    it.live("with chunksize gives results in order, each chunk run by one child (test_map_chunksize)", () =>
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
            expect(new Set(tagged.slice(chunk * 5, chunk * 5 + 5).map((t) => t.pid)).size).toBe(1)
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
  })

  describe("Future.interrupt", () => {
    it.live(
      "stops a running task that honours Task.signal() promptly; the future ends cancelled, the child stays",
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
            expect((yield* result(yield* Executor.submit(tasks.whereAmI, 0))).pid).toBe(before.pid)
          }),
          { interruptGrace: "5 seconds" }
        )
    )

    it.live(
      "replaces the child of a busy task that ignores the signal after interruptGrace; the pool stays healthy",
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
            expect(after.pid).not.toBe(before.pid)
            expect(isAlive(before.pid)).toBe(false)
          }),
          { interruptGrace: 200 }
        )
    )

    it.live("interrupts an Effect task inside the child, running its finalizers", () =>
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
            expect((yield* result(yield* Executor.submit(tasks.whereAmI, 0))).pid).toBe(before.pid)
          }),
          { interruptGrace: "5 seconds" }
        )
      })
    )
  })

  describe("process options", () => {
    it.live("env, execArgv and cwd reach the children", () => {
      const cwd = realpathSync(tmpdir())
      return withPool(
        Effect.gen(function* () {
          expect(yield* result(yield* Executor.submit(tasks.readEnv, "EFFECT_FUTURES_TEST_VALUE"))).toBe(
            "from the parent"
          )
          const info = yield* result(yield* Executor.submit(tasks.processInfo))
          expect(info.execArgv).toContain("--max-old-space-size=200")
          expect(info.cwd).toBe(cwd)
        }),
        {
          env: { ...process.env, EFFECT_FUTURES_TEST_VALUE: "from the parent" },
          execArgv: ["--max-old-space-size=200"],
          cwd
        }
      )
    })

    it.live("a child that cannot start breaks the pool rather than hanging", () =>
      withPool(
        Effect.gen(function* () {
          const error = yield* Effect.flip(result(yield* Executor.submit(tasks.add, 1, 2)))
          expect(error).toMatchObject({ _tag: "BrokenExecutor", kind: "ProcessPool" })
          expect(yield* Effect.flip(Executor.submit(tasks.add, 1, 2))).toMatchObject({ _tag: "BrokenExecutor" })
        }),
        { execArgv: ["--no-such-node-option-for-effect-futures"] }
      )
    )
  })

  describe("shutdown", () => {
    it.live("with wait returns once running tasks are done and no child is left", () =>
      withProcessPool(
        (pool) =>
          Effect.gen(function* () {
            const futures = yield* Effect.forEach(range(4), () => pool.submit(tasks.whereAmI, 300))
            yield* pool.shutdown({ wait: true })
            for (const future of futures) expect(yield* Future.state(future)).toBe("FINISHED")
            const pids = new Set((yield* Effect.forEach(futures, result)).map((id) => id.pid))
            expect(pids.size).toBe(2)
            for (const pid of pids) expect(isAlive(pid)).toBe(false)
            expect(yield* Effect.flip(pool.submit(tasks.add, 1, 2))).toMatchObject({ _tag: "ExecutorShutdownError" })
          }),
        { maxWorkers: 2 }
      )
    )

    it.live("with cancelFutures cancels the pending tasks, finishes the running one, and no child is left", () =>
      withProcessPool((pool) =>
        Effect.gen(function* () {
          const { pid } = yield* result(yield* pool.submit(tasks.whereAmI, 0))
          const running = yield* pool.submit(tasks.whereAmI, 300)
          const pending = yield* Effect.forEach(range(5), (i) => pool.submit(tasks.add, i, 1))
          yield* Effect.sleep(100)
          yield* pool.shutdown({ wait: true, cancelFutures: true })
          expect((yield* result(running)).pid).toBe(pid)
          // As in Python, a call already handed to the worker is running and is not cancelled.
          let cancelled = 0
          for (const [i, future] of pending.entries()) {
            if (yield* Future.cancelled(future)) cancelled++
            else expect(yield* result(future)).toBe(i + 1)
          }
          expect(cancelled).toBeGreaterThanOrEqual(3)
          expect(isAlive(pid)).toBe(false)
        })
      )
    )

    for (const how of ["terminateWorkers", "killWorkers"] as const) {
      it.live(`${how}() stops a running task: its future fails with BrokenExecutor and no child is left`, () =>
        Effect.gen(function* () {
          const { file, lines } = yield* tempFile
          yield* withProcessPool((pool) =>
            Effect.gen(function* () {
              const { pid } = yield* result(yield* pool.submit(tasks.whereAmI, 0))
              const running = yield* pool.submit(tasks.startSleepFinish, file, 5_000)
              const pending = yield* Effect.forEach(range(5), (i) => pool.submit(tasks.add, i, 1))
              yield* Effect.sleep(200)
              expect(lines()).toEqual(["started"])
              yield* pool[how]()
              const error = yield* Effect.flip(result(running))
              expect(error).toMatchObject({ _tag: "BrokenExecutor", kind: "ProcessPool" })
              expect((error as BrokenExecutor).reason).toContain(how)
              // Pending calls are cancelled; one already handed to the worker fails with the running one.
              let cancelled = 0
              for (const future of pending) {
                if (yield* Future.cancelled(future)) cancelled++
                else expect(yield* Effect.flip(result(future))).toMatchObject({ _tag: "BrokenExecutor" })
              }
              expect(cancelled).toBeGreaterThanOrEqual(3)
              expect(isAlive(pid)).toBe(false)
              expect(yield* Effect.flip(pool.submit(tasks.add, 1, 2))).toMatchObject({
                _tag: "ExecutorShutdownError"
              })
              // The task never got to finish (_put_wait_put).
              expect(lines()).toEqual(["started"])
            })
          )
        })
      )

      it.live(`${how}() before any worker started returns at once`, () =>
        withProcessPool((pool) =>
          Effect.gen(function* () {
            yield* pool[how]().pipe(Effect.timeout("2 seconds"))
            expect(yield* Effect.flip(pool.submit(tasks.add, 1, 2))).toMatchObject({ _tag: "ExecutorShutdownError" })
          })
        )
      )

      it.live(`${how}() on a broken pool does not fail`, () =>
        withProcessPool(
          (pool) =>
            Effect.gen(function* () {
              const future = yield* pool.submit(tasks.add, 1, 2)
              expect(yield* Effect.flip(result(future))).toMatchObject({ _tag: "BrokenExecutor" })
              yield* pool[how]().pipe(Effect.timeout("5 seconds"))
            }),
          { initializer: tasks.failingInit, initargs: ["error in initializer"] }
        )
      )
    }
  })
})
