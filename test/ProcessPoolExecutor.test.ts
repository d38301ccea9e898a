/**
 * The process pool (child processes): the generic executor suite and the
 * worker pool suite (initializers, what crosses back from a child, the
 * child's traceback, chunked `map`, `Future.interrupt`), then what only
 * processes have: bad `maxTasksPerChild`, saturation, idle reuse,
 * `max_tasks_per_child` as CPython's `test_process_pool.py` checks it,
 * `Task.transfer` copying, the children's environment and Node options,
 * `terminate_workers`/`kill_workers`, and no child left behind.
 */
import { realpathSync } from "node:fs"
import { tmpdir } from "node:os"
import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect } from "effect"
import { type BrokenExecutor, Executor, Future, ProcessPoolExecutor, Task } from "../src/index.ts"
import { processExists } from "./fixtures/processes.ts"
import * as tasks from "./fixtures/tasks.ts"
import { executorSuite } from "./suites/executor.ts"
import {
  primed,
  range,
  result,
  tempFile as tempFileIn,
  timeout,
  withPoolOf,
  workerPoolSuite
} from "./suites/workerPool.ts"

// Two workers at most, whatever the suite asks: a child takes most of a second to start here.
executorSuite(
  "ProcessPoolExecutor",
  (options) => primed(ProcessPoolExecutor.layer, Math.min(options.maxWorkers, 2)),
  tasks.suiteTasks,
  { timeScale: 2 }
)

workerPoolSuite("ProcessPoolExecutor", {
  make: ProcessPoolExecutor.make,
  layer: ProcessPoolExecutor.layer,
  kind: "ProcessPool",
  worker: "child",
  workerOf: (id) => id.pid,
  isAlive: (id) => processExists(id.pid),
  badLayerMaxWorkers: -1,
  tempPrefix: "process-pool-"
})

/** The test body on a fresh pool (one worker unless told), shutdown included, under one deadline. */
const withPool = withPoolOf<ProcessPoolExecutor.Options>(ProcessPoolExecutor.layer)

/** The test body with a fresh pool (one worker unless told) in hand, closed at its end, under one deadline. */
const withProcessPool = <A, E>(
  body: (pool: ProcessPoolExecutor.ProcessPoolExecutor) => Effect.Effect<A, E>,
  options: ProcessPoolExecutor.Options = {}
): Effect.Effect<A, unknown> =>
  Effect.scoped(Effect.flatMap(ProcessPoolExecutor.make({ maxWorkers: 1, ...options }), body)).pipe(
    Effect.timeout("20 seconds")
  )

/** A fresh file, removed when the test ends, and its lines. */
const tempFile = tempFileIn("process-pool-")

describe("ProcessPoolExecutor", () => {
  describe("options", () => {
    it.effect("fails make with IllegalArgumentError naming maxTasksPerChild", () =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(
          Effect.scoped(ProcessPoolExecutor.make({ maxWorkers: 1, maxTasksPerChild: 0 }))
        )
        expect(Cause.isIllegalArgumentError(error)).toBe(true)
        expect(error.message).toMatch(/^ProcessPoolExecutor: maxTasksPerChild must be .*got 0$/)
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
          expect(processExists(pids[0])).toBe(false)
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

  it.layer(ProcessPoolExecutor.layer({ maxWorkers: 1 }), { excludeTestServices: true })(
    "what crosses back from a child",
    (it) => {
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
            for (const pid of pids) expect(processExists(pid)).toBe(false)
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
          expect(processExists(pid)).toBe(false)
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
              expect(processExists(pid)).toBe(false)
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
