/**
 * The interpreter pool (worker threads): the generic executor suite and the
 * worker pool suite (initializers, what crosses back from a worker, chunked
 * `map`, `Future.interrupt`), then what only the thread pool of workers has:
 * bad `maxTasksPerChild` and `interruptGrace`, saturation, idle reuse, the
 * worker's console output, `shared` memory, `Task.transfer`, interrupting a
 * task while its worker or module is still starting, and a Task on the
 * thread pool.
 */
import { readdirSync } from "node:fs"
import * as WorkerThreads from "node:worker_threads"
import { describe, expect, it } from "@effect/vitest"
import { Cause, Deferred, Effect, Exit, Stream } from "effect"
import { Executor, Future, InterpreterPoolExecutor, Task, ThreadPoolExecutor } from "../src/index.ts"
import { poolOf } from "../src/internal/workerPool/executor.ts"
import * as tasks from "./fixtures/tasks.ts"
import { executorSuite } from "./suites/executor.ts"
import {
  exitOf,
  primed,
  range,
  result,
  squashed,
  tempFile as tempFileIn,
  timeout,
  withPoolOf,
  workerPoolSuite
} from "./suites/workerPool.ts"

// Two workers at most, whatever the suite asks: a thread takes most of a second to start here.
executorSuite(
  "InterpreterPoolExecutor",
  (options) => primed(InterpreterPoolExecutor.layer, Math.min(options.maxWorkers, 2)),
  tasks.suiteTasks,
  { timeScale: 2 }
)

workerPoolSuite("InterpreterPoolExecutor", {
  make: InterpreterPoolExecutor.make,
  layer: InterpreterPoolExecutor.layer,
  kind: "InterpreterPool",
  worker: "worker",
  workerOf: (id) => id.threadId,
  badLayerMaxWorkers: 0,
  tempPrefix: "interpreter-pool-"
})

/** The test body on a fresh pool (one worker unless told), shutdown included, under one deadline. */
const withPool = withPoolOf<InterpreterPoolExecutor.Options>(InterpreterPoolExecutor.layer)

/** A fresh file, removed when the test ends, and its lines. */
const tempFile = tempFileIn("interpreter-pool-")

/** OS threads in this process (Linux): each worker thread is one. */
const osThreads = (): number => readdirSync("/proc/self/task").length

describe("InterpreterPoolExecutor", () => {
  describe("options", () => {
    for (const bad of [0, 2.5]) {
      it.effect(`fails make with IllegalArgumentError naming maxTasksPerChild and ${bad}`, () =>
        Effect.gen(function* () {
          const error = yield* Effect.flip(
            Effect.scoped(InterpreterPoolExecutor.make({ maxWorkers: 1, maxTasksPerChild: bad }))
          )
          expect(Cause.isIllegalArgumentError(error)).toBe(true)
          expect(error.message).toMatch(/^InterpreterPoolExecutor: maxTasksPerChild must be /)
          expect(error.message).toContain(`got ${bad}`)
        })
      )
    }

    it.effect("fails make with IllegalArgumentError for a negative interruptGrace", () =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(Effect.scoped(InterpreterPoolExecutor.make({ interruptGrace: -1 })))
        expect(Cause.isIllegalArgumentError(error)).toBe(true)
        expect(error.message).toMatch(/^InterpreterPoolExecutor: interruptGrace must be /)
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

  it.layer(InterpreterPoolExecutor.layer({ maxWorkers: 1 }), { excludeTestServices: true })(
    "what crosses back from a worker",
    (it) => {
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

  describe("idle workers", () => {
    it.live("still run what a finished task left behind (timers, unref'd timers, microtasks)", () =>
      withPool(
        Effect.gen(function* () {
          const buffer = new SharedArrayBuffer(12)
          const view = new Int32Array(buffer)
          yield* result(yield* Executor.submit(tasks.leaveWorkBehind, buffer, 50))
          // The worker now has no call: it may sleep on its doorbell, but not through this work.
          const done = () => [0, 1, 2].every((i) => Atomics.load(view, i) === 1)
          for (let i = 0; i < 200 && !done(); i++) yield* Effect.sleep("10 millis")
          expect([0, 1, 2].map((i) => Atomics.load(view, i))).toEqual([1, 1, 1])
        })
      )
    )
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

    it.live(
      "a burst of calls moving large buffers: the workers hold a few MiB of them at a time, not a batch's worth",
      () =>
        withPool(
          Effect.gen(function* () {
            const executor = yield* Executor.Executor
            const pool = poolOf(executor) as unknown as {
              balancer: { millisPerCall: number }
              workers: Set<{ items: { size: number } }>
            }
            expect(yield* result(yield* Executor.submit(tasks.add, 1, 1))).toBe(2)
            // Say calls are tiny: by their cost alone, a dozen of these would go to the worker at once.
            pool.balancer.millisPerCall = 0.001
            const buffers = range(24).map((i) => new Uint8Array(1 << 20).fill(i % 2).buffer)
            const futures = yield* Effect.forEach(buffers, (buffer) =>
              Executor.submit(tasks.sumBytesAfter, Task.transfer(buffer, [buffer]), 20)
            )
            yield* Effect.yieldNow
            const held = [...pool.workers].reduce((n, worker) => n + worker.items.size, 0)
            // Moved buffers the parent is waiting for count as memory it allocated since its last full
            // collection, once they come back: a batch's worth of them would start one every few calls.
            expect(held, "calls the worker holds").toBeGreaterThan(1)
            expect(held, "calls the worker holds").toBeLessThanOrEqual(8)
            // Moved when sent: the calls still queued have their buffers here.
            expect(buffers.filter((buffer) => buffer.byteLength === 0).length).toBe(held)
            expect(yield* Effect.forEach(futures, result)).toEqual(range(24).map((i) => (i % 2) << 20))
          })
        )
    )
  })

  describe("Future.interrupt", () => {
    it.live("stops a task honouring Task.signal() promptly even while its worker is still starting", () =>
      withPool(
        Effect.gen(function* () {
          const future = yield* Executor.submit(tasks.sleepHonouringSignal, 20_000)
          yield* Effect.sleep(10)
          expect(yield* Future.running(future)).toBe(true)
          // Were the abort not heard, interrupt would wait out the 60-second grace and replace the worker.
          expect(yield* Future.interrupt(future).pipe(Effect.timeout("20 seconds"))).toBe(true)
          expect(yield* Future.state(future)).toBe("CANCELLED_AND_NOTIFIED")
          expect(yield* result(yield* Executor.submit(tasks.add, 1, 2))).toBe(3)
        }),
        { interruptGrace: "60 seconds" }
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
