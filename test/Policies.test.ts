/**
 * The options beyond Python, on every pool: `submitWith`'s `priority`,
 * `timeout`, `retries` and `signal`; `maxQueue` with `whenFull`; failures
 * nobody looked at, logged or made the scope's defect. Python's behaviour is
 * the default, so the CPython-semantics suites run without any of these.
 */
import { getEventListeners } from "node:events"
import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit, Fiber, Layer, Logger, Option, Schedule, Stream } from "effect"
import { TestClock } from "effect/testing"
import {
  Executor,
  Future,
  InterpreterPoolExecutor,
  ProcessPoolExecutor,
  QueueFull,
  Task,
  ThreadPoolExecutor,
  UnobservedFailures
} from "../src/index.ts"
import { poolOf } from "../src/internal/workerPool/executor.ts"
import * as faults from "./fixtures/faults.ts"
import { countUp, countUpEffect, exitOnFirstAttempt, failTimesTask, startThenSleep } from "./fixtures/policyTasks.ts"
import * as tasks from "./fixtures/tasks.ts"
import { exitOf, range, result, squashed, tempFile } from "./suites/workerPool.ts"

type PoolLayer = (
  options: Executor.PoolOptions & { readonly maxWorkers: number }
) => Layer.Layer<Executor.Executor, unknown>

const pools: ReadonlyArray<readonly [string, PoolLayer]> = [
  ["ThreadPoolExecutor", (options) => ThreadPoolExecutor.layer(options)],
  ["InterpreterPoolExecutor", (options) => InterpreterPoolExecutor.layer(options)],
  ["ProcessPoolExecutor", (options) => ProcessPoolExecutor.layer(options)]
]

/** Waits (bounded) until the future runs. */
const untilRunning = <A, E>(future: Future.Future<A, E>) =>
  Future.running(future).pipe(
    Effect.repeat({ until: (running) => running, schedule: Schedule.spaced("5 millis") }),
    Effect.timeout("10 seconds")
  )

describe.each(pools)("%s", (_name, layer) => {
  const withPool = <A, E>(
    body: Effect.Effect<A, E, Executor.Executor>,
    options: Executor.PoolOptions & { readonly maxWorkers?: number } = {}
  ) => body.pipe(Effect.provide(layer({ maxWorkers: 1, ...options })), Effect.timeout("30 seconds"))

  it.live("priority: among pending tasks the higher runs first, equal ones in submit order", () =>
    Effect.gen(function* () {
      const { file, lines } = yield* tempFile("priority-")
      yield* withPool(
        Effect.gen(function* () {
          const first = yield* Executor.submit(tasks.record, file, 0, 300)
          yield* untilRunning(first)
          const low = yield* Executor.submitWith({ priority: -1 })(tasks.record, file, 1, 0)
          const normal = yield* Executor.submit(tasks.record, file, 2, 0)
          const high = yield* Executor.submitWith({ priority: 5 })(tasks.record, file, 3, 0)
          const alsoHigh = yield* Executor.submitWith({ priority: 5 })(tasks.record, file, 4, 0)
          for (const f of [first, low, normal, high, alsoHigh]) yield* result(f)
        })
      )
      expect(lines()).toEqual(["0", "3", "4", "2", "1"])
    })
  )

  it.live("timeout: a task running past it is interrupted and fails with TimeoutError; the pool goes on", () =>
    withPool(
      Effect.gen(function* () {
        const slow = yield* Executor.submitWith({ timeout: "100 millis" })(tasks.sleepHonouringSignal, 20_000)
        const error = squashed(yield* exitOf(slow))
        expect(Cause.isTimeoutError(error)).toBe(true)
        expect((error as Error).message).toContain("did not finish within its timeout of 100ms")
        expect(yield* Future.done(slow)).toBe(true)
        expect(yield* result(yield* Executor.submit(tasks.add, 1, 2))).toBe(3)
      })
    )
  )

  it.live("timeout counts from the start of the run, not from submit", () =>
    withPool(
      Effect.gen(function* () {
        const first = yield* Executor.submit(tasks.sleepThenReturn, 1500, "first")
        yield* untilRunning(first)
        // Queued behind `first` for longer than its timeout, then quick.
        const queued = yield* Executor.submitWith({ timeout: "1 second" })(tasks.sleepThenReturn, 10, "queued")
        expect(yield* result(queued)).toBe("queued")
        expect(yield* result(first)).toBe("first")
      })
    )
  )

  it.live("retries: failed attempts run again under one future, which ends with the first success", () =>
    Effect.gen(function* () {
      const { file, lines } = yield* tempFile("retries-")
      const value = yield* withPool(
        Effect.gen(function* () {
          const future = yield* Executor.submitWith({ retries: 2 })(failTimesTask, file, 2, "third time lucky")
          return yield* result(future)
        })
      )
      expect(value).toBe("third time lucky")
      expect(lines()).toEqual(["1", "2", "3"])
    })
  )

  it.live("retries: when the schedule is spent the future ends with the last failure", () =>
    Effect.gen(function* () {
      const { file, lines } = yield* tempFile("retries-spent-")
      const exit = yield* withPool(
        Effect.gen(function* () {
          const future = yield* Executor.submitWith({
            retries: Schedule.spaced("10 millis").pipe(Schedule.upTo({ times: 1 }))
          })(failTimesTask, file, 5, "never")
          return yield* exitOf(future)
        })
      )
      expect((squashed(exit) as Error).message).toBe("attempt 2 failed")
      expect(lines()).toEqual(["1", "2"])
    })
  )

  it.live("timeout + retries: Future.interrupt or an abort ends the attempts, even of a task deaf to its signal", () =>
    withPool(
      Effect.gen(function* () {
        // Each attempt times out long before an interrupted worker is replaced (interruptGrace: 1 second).
        const options = { timeout: "200 millis", retries: Schedule.recurs(3) } as const
        const interrupted = yield* Executor.submitWith(options)(tasks.sleepThenReturn, 60_000, "never")
        yield* untilRunning(interrupted)
        expect(yield* Future.interrupt(interrupted).pipe(Effect.timeout("10 seconds"))).toBe(true)
        expect(yield* Future.cancelled(interrupted)).toBe(true)
        const controller = new AbortController()
        const aborted = yield* Executor.submitWith({ ...options, signal: controller.signal })(
          tasks.sleepThenReturn,
          60_000,
          "never"
        )
        yield* untilRunning(aborted)
        controller.abort()
        expect(squashed(yield* exitOf(aborted))).toMatchObject({ _tag: "CancelledError" })
        expect(yield* result(yield* Executor.submit(tasks.add, 2, 3))).toBe(5)
      })
    )
  )

  it.live("signal: aborting cancels a pending task and interrupts a running one", () =>
    withPool(
      Effect.gen(function* () {
        const runningSignal = new AbortController()
        const pendingSignal = new AbortController()
        const running = yield* Executor.submitWith({ signal: runningSignal.signal })(tasks.sleepHonouringSignal, 20_000)
        yield* untilRunning(running)
        const pending = yield* Executor.submitWith({ signal: pendingSignal.signal })(tasks.add, 1, 2)
        pendingSignal.abort()
        const pendingExit = yield* exitOf(pending)
        expect(squashed(pendingExit)).toMatchObject({ _tag: "CancelledError" })
        expect(yield* Future.cancelled(pending)).toBe(true)
        runningSignal.abort()
        const runningExit = yield* exitOf(running)
        expect(squashed(runningExit)).toMatchObject({ _tag: "CancelledError" })
        expect(yield* result(yield* Executor.submit(tasks.add, 2, 3))).toBe(5)
      })
    )
  )

  it.live("signal: an already aborted signal gives a cancelled future", () =>
    withPool(
      Effect.gen(function* () {
        const future = yield* Executor.submitWith({ signal: AbortSignal.abort() })(tasks.add, 1, 2)
        yield* exitOf(future)
        expect(yield* Future.cancelled(future)).toBe(true)
      })
    )
  )

  it.live("signal: a long-lived signal keeps no listener for a future that has ended, however it ended", () =>
    withPool(
      Effect.gen(function* () {
        const shared = new AbortController().signal
        const alreadyAborted = AbortSignal.abort()
        const submit = Executor.submitWith({ signal: shared })
        const finished = yield* Effect.forEach(range(20), (i) => submit(tasks.add, i, 1))
        const failed = yield* Effect.forEach(range(5), () => submit(tasks.divide, 1, 0))
        for (const future of [...finished, ...failed]) yield* exitOf(future)
        const running = yield* submit(tasks.sleepHonouringSignal, 20_000)
        yield* untilRunning(running)
        const pending = yield* submit(tasks.add, 1, 2)
        expect(yield* Future.cancel(pending)).toBe(true)
        expect(yield* Future.interrupt(running)).toBe(true)
        const cancelled = yield* Effect.forEach(range(5), () =>
          Executor.submitWith({ signal: alreadyAborted })(tasks.add, 1, 2)
        )
        for (const future of cancelled) expect(yield* Future.cancelled(future)).toBe(true)
        // A listener goes in a done callback, which runs just after the future ends.
        const listeners = () => [
          getEventListeners(shared, "abort").length,
          getEventListeners(alreadyAborted, "abort").length
        ]
        yield* Effect.sync(listeners).pipe(
          Effect.repeat({ until: (counts) => counts.every((n) => n === 0), schedule: Schedule.spaced("5 millis") }),
          Effect.timeoutOption("5 seconds")
        )
        expect(listeners()).toEqual([0, 0])
      })
    )
  )

  it.live("signal: an already aborted signal still meets a shut down pool's ExecutorShutdownError", () =>
    withPool(
      Effect.gen(function* () {
        const executor = yield* Executor.Executor
        yield* executor.shutdown()
        const error = yield* Effect.flip(executor.submitWith({ signal: AbortSignal.abort() })(tasks.add, 1, 2))
        expect(error).toMatchObject({ _tag: "ExecutorShutdownError" })
      })
    )
  )

  it.live('maxQueue with whenFull "reject": a submit finding the queue full fails with QueueFull', () =>
    withPool(
      Effect.gen(function* () {
        const running = yield* Executor.submit(tasks.sleepHonouringSignal, 20_000)
        yield* untilRunning(running)
        const queued = yield* Executor.submit(tasks.add, 1, 2)
        const error = yield* Effect.flip(Executor.submit(tasks.add, 3, 4))
        expect(error).toBeInstanceOf(QueueFull)
        expect(error.message).toContain("maxQueue = 1")
        expect(error.message).toContain('whenFull: "suspend"')
        yield* Future.interrupt(running)
        expect(yield* result(queued)).toBe(3)
        // Admission again: the next submit is taken.
        expect(yield* result(yield* Executor.submit(tasks.add, 3, 4))).toBe(7)
      }),
      { maxQueue: 1, whenFull: "reject" }
    )
  )

  it.live('maxQueue with whenFull "suspend": the submitter waits for room, then its task runs', () =>
    withPool(
      Effect.gen(function* () {
        const running = yield* Executor.submit(tasks.sleepHonouringSignal, 20_000)
        yield* untilRunning(running)
        const queued = yield* Executor.submit(tasks.add, 1, 2)
        const waiting = yield* Effect.forkChild(Executor.submit(tasks.add, 3, 4))
        yield* Effect.sleep("100 millis")
        expect(waiting.pollUnsafe()).toBeUndefined()
        yield* Future.interrupt(running)
        const later = yield* Fiber.join(waiting).pipe(Effect.timeout("10 seconds"))
        expect(yield* result(queued)).toBe(3)
        expect(yield* result(later)).toBe(7)
      }),
      { maxQueue: 1 }
    )
  )

  it.live("maxQueue: a signal aborted while its submit waits for room ends the wait with a cancelled future", () =>
    Effect.gen(function* () {
      const { file, lines } = yield* tempFile("abort-waiting-")
      yield* withPool(
        Effect.gen(function* () {
          const running = yield* Executor.submit(tasks.sleepHonouringSignal, 20_000)
          yield* untilRunning(running)
          const queued = yield* Executor.submit(tasks.record, file, 1, 0)
          const controller = new AbortController()
          // Started at once: it runs up to the wait for room before the abort below.
          const waiting = yield* Effect.forkChild(
            Executor.submitWith({ signal: controller.signal })(tasks.record, file, 2, 0),
            { startImmediately: true }
          )
          expect(waiting.pollUnsafe()).toBeUndefined()
          controller.abort()
          // No room has opened: only the abort can end the wait.
          const aborted = yield* Fiber.join(waiting).pipe(Effect.timeout("10 seconds"))
          expect(yield* Future.cancelled(aborted)).toBe(true)
          yield* Future.interrupt(running)
          expect(yield* result(queued)).toBe(1)
          // The turn it gave up goes on: the next submit queues and runs.
          expect(yield* result(yield* Executor.submit(tasks.record, file, 3, 0))).toBe(3)
        }),
        { maxQueue: 1 }
      )
      expect(lines()).toEqual(["1", "3"])
    })
  )

  it.live(
    'maxQueue 0 with whenFull "reject": a task a free worker can take is admitted; with none free, QueueFull',
    () =>
      withPool(
        Effect.gen(function* () {
          // Nothing may wait, but a free worker takes the task at once.
          expect(yield* result(yield* Executor.submit(tasks.add, 1, 2))).toBe(3)
          const running = yield* Executor.submit(tasks.sleepHonouringSignal, 20_000)
          yield* untilRunning(running)
          const error = yield* Effect.flip(Executor.submit(tasks.add, 3, 4))
          expect(error).toBeInstanceOf(QueueFull)
          expect(error.message).toContain("maxQueue = 0")
          yield* Future.interrupt(running)
          // The worker is free again.
          expect(yield* result(yield* Executor.submit(tasks.add, 3, 4))).toBe(7)
        }),
        { maxQueue: 0, whenFull: "reject" }
      )
  )

  it.live('maxQueue 0 with whenFull "suspend": a submitter waits while every worker is busy, then goes in', () =>
    withPool(
      Effect.gen(function* () {
        const running = yield* Executor.submit(tasks.sleepHonouringSignal, 20_000).pipe(Effect.timeout("10 seconds"))
        yield* untilRunning(running)
        const waiting = yield* Effect.forkChild(Executor.submit(tasks.add, 3, 4))
        yield* Effect.sleep("100 millis")
        expect(waiting.pollUnsafe()).toBeUndefined()
        yield* Future.interrupt(running)
        // A worker that becomes free lets the waiting submitter in, though no task left a queue.
        const later = yield* Fiber.join(waiting).pipe(Effect.timeout("10 seconds"))
        expect(yield* result(later)).toBe(7)
      }),
      { maxQueue: 0 }
    )
  )

  it.live("maxQueue: a map interrupted while it waits for room closes its input and cancels what it queued", () =>
    withPool(
      Effect.gen(function* () {
        const running = yield* Executor.submit(tasks.sleepHonouringSignal, 20_000)
        yield* untilRunning(running)
        let read = 0
        let closed = false
        const inputs = (function* () {
          try {
            for (let i = 0; ; i++) {
              read++
              yield i
            }
          } finally {
            closed = true
          }
        })()
        const mapping = yield* Effect.forkChild(Stream.runCollect(Executor.map(tasks.add, inputs, [1, 1, 1, 1])))
        yield* Effect.sleep("100 millis")
        // One call queued, the second waiting for room.
        expect(read).toBe(2)
        yield* Fiber.interrupt(mapping).pipe(Effect.timeout("10 seconds"))
        expect(closed).toBe(true)
        yield* Future.interrupt(running)
        // The queued call was cancelled: the pool runs the next submit at once.
        expect(yield* result(yield* Executor.submit(tasks.add, 3, 4))).toBe(7)
      }),
      { maxQueue: 1 }
    )
  )

  it.live("maxQueue: map stays lazy and gives every result in order", () =>
    withPool(
      Effect.gen(function* () {
        const xs = Array.from({ length: 40 }, (_, i) => i)
        const ones = xs.map(() => 1)
        expect(yield* Stream.runCollect(Executor.map(tasks.add, xs, ones))).toEqual(xs.map((x) => x + 1))
        expect(yield* Stream.runCollect(Executor.map(tasks.add, xs, ones, { buffersize: 3 }))).toEqual(
          xs.map((x) => x + 1)
        )
      }),
      { maxQueue: 2, maxWorkers: 2 }
    )
  )

  it.live.each([
    ["a function", countUp],
    ["an Effect", countUpEffect]
  ] as const)("Task.progress from %s reaches Future.progress as a stream that ends with the future", ([, task]) =>
    withPool(
      Effect.gen(function* () {
        const future = yield* Executor.submit(task, 5, 30)
        const seen = yield* Stream.runCollect(Future.progress<number>(future)).pipe(Effect.timeout("10 seconds"))
        expect(yield* result(future)).toBe(true)
        // A reader starts from the latest value: a run of consecutive values ending at 5.
        expect(seen.length).toBeGreaterThan(0)
        expect(seen).toEqual(Array.from({ length: seen.length }, (_, i) => 6 - seen.length + i))
        // Once done, the stream gives the last value and ends.
        expect(yield* Stream.runCollect(Future.progress(future))).toEqual([5])
      })
    )
  )

  it.live("a failure nobody looked at is logged when the scope closes", () =>
    Effect.gen(function* () {
      const lines: Array<string> = []
      const capture = Logger.make((options) => {
        const message = Array.isArray(options.message) ? options.message : [options.message]
        lines.push(message.map(String).join(" "))
      })
      yield* withPool(
        Effect.gen(function* () {
          const unseen = yield* Executor.submit(tasks.divide, 1, 0)
          const seen = yield* Executor.submit(tasks.divide, 2, 0)
          yield* Future.wait([unseen, seen], { timeout: "10 seconds" })
          expect(Exit.isFailure(yield* exitOf(seen))).toBe(true)
        })
      ).pipe(Effect.provide(Logger.layer([capture])))
      expect(lines[0]).toMatch(/^1 future of the \w+Executor "[^"]+" failed and nobody looked at the failure/)
      expect(lines.some((line) => line.includes("division by zero") || line.includes("raised"))).toBe(true)
    })
  )

  it.live("failures nobody looked at: every one counted, the first few kept with their causes, one log entry", () =>
    Effect.gen(function* () {
      const logged: Array<{ readonly message: string; readonly cause: Cause.Cause<unknown> }> = []
      const capture = Logger.make((options) => {
        const message = Array.isArray(options.message) ? options.message : [options.message]
        logged.push({ message: message.map(String).join(" "), cause: options.cause })
      })
      yield* withPool(
        Effect.gen(function* () {
          const futures = yield* Effect.forEach(Array.from({ length: 20 }), (_, i) =>
            Executor.submit(tasks.divide, i, 0)
          )
          yield* Future.wait(futures, { timeout: "10 seconds" })
          // Looked at after it failed: no longer unobserved. One worker runs them in order, so the
          // last one failed after the first five, which are kept.
          expect(yield* Future.exception(futures[19], { timeout: "10 seconds" })).toMatchObject({ _tag: "Some" })
        })
      ).pipe(Effect.provide(Logger.layer([capture])))
      expect(logged).toHaveLength(1)
      const [entry] = logged
      expect(entry.message).toMatch(/^19 futures of the \w+Executor "[^"]+" failed and nobody looked at the failure/)
      expect(entry.message).toContain("the first 5:")
      // Only the kept ones carry their causes, one each.
      expect(entry.cause.reasons).toHaveLength(5)
      expect(Cause.pretty(entry.cause)).toContain("division by zero")
    })
  )

  it.live("failOnUnobserved: the defect counts every failure and keeps the first few", () =>
    Effect.gen(function* () {
      const exit = yield* Effect.exit(
        withPool(
          Effect.gen(function* () {
            const futures = yield* Effect.forEach(Array.from({ length: 20 }), (_, i) =>
              Executor.submit(tasks.divide, i, 0)
            )
            yield* Future.wait(futures, { timeout: "10 seconds" })
          }),
          { failOnUnobserved: true }
        )
      )
      const defect = squashed(exit) as UnobservedFailures
      expect(defect).toBeInstanceOf(UnobservedFailures)
      expect(defect.count).toBe(20)
      expect(defect.failures).toHaveLength(5)
      expect(defect.message).toMatch(/^20 futures of the \w+Executor "[^"]+" failed/)
    })
  )

  it.live("failOnUnobserved: a failure nobody looked at is the scope's defect", () =>
    Effect.gen(function* () {
      const exit = yield* Effect.exit(
        withPool(
          Effect.gen(function* () {
            const unseen = yield* Executor.submit(tasks.divide, 1, 0)
            yield* Future.wait([unseen], { timeout: "10 seconds" })
          }),
          { failOnUnobserved: true }
        )
      )
      const defect = squashed(exit)
      expect(defect).toBeInstanceOf(UnobservedFailures)
      expect((defect as UnobservedFailures).count).toBe(1)
      expect(String((defect as UnobservedFailures).failures[0])).toContain("division by zero")
    })
  )

  it.live("failOnUnobserved: a call that fails inside map ends the stream and is not reported as unobserved", () =>
    withPool(
      Effect.gen(function* () {
        const exit = yield* Effect.exit(
          Stream.runCollect(Executor.map(tasks.divide, [1, 2, 3], [1, 0, 1])).pipe(Effect.timeout("10 seconds"))
        )
        expect(Exit.isFailure(exit)).toBe(true)
        expect(String(squashed(exit))).toContain("division by zero")
      }),
      { failOnUnobserved: true }
    )
  )

  it.live("failOnUnobserved: failures that were looked at, and cancellations, are not reported", () =>
    withPool(
      Effect.gen(function* () {
        const failed = yield* Executor.submit(tasks.divide, 1, 0)
        expect(yield* Future.exception(failed, { timeout: "10 seconds" })).toMatchObject({ _tag: "Some" })
        const viaCallback = yield* Executor.submit(tasks.divide, 2, 0)
        yield* Future.addDoneCallback(viaCallback, () => {})
        const running = yield* Executor.submit(tasks.sleepHonouringSignal, 20_000)
        yield* untilRunning(running)
        const cancelled = yield* Executor.submit(tasks.add, 1, 2)
        yield* Future.cancel(cancelled)
        yield* Future.interrupt(running)
        yield* Future.wait([viaCallback], { timeout: "10 seconds" })
      }),
      { failOnUnobserved: true }
    )
  )
})

describe.each(pools.slice(1))('%s with onWorkerDeath: "replace"', (_name, layer) => {
  it.live("retries run a call again after its worker died; the pool carries on", () =>
    Effect.gen(function* () {
      const { file, lines } = yield* tempFile("retry-died-")
      const value = yield* Effect.gen(function* () {
        const future = yield* Executor.submitWith({ retries: 1 })(exitOnFirstAttempt, file)
        return yield* result(future)
      }).pipe(
        Effect.provide(
          layer({ maxWorkers: 1, onWorkerDeath: "replace" } as Executor.PoolOptions & { maxWorkers: number })
        ),
        Effect.timeout("30 seconds")
      )
      expect(value).toBe("survived")
      expect(lines()).toEqual(["1", "2"])
    })
  )
})

describe.each(pools.slice(1))("%s: a submitWith whose signal is already aborted", (_name, layer) => {
  it.live("of something not a Task dies as submit does, with IllegalArgumentError", () =>
    Effect.gen(function* () {
      const viaSubmit = yield* Effect.exit(Executor.submit(() => 1))
      const viaSubmitWith = yield* Effect.exit(Executor.submitWith({ signal: AbortSignal.abort() })(() => 1))
      expect(Exit.hasDies(viaSubmit)).toBe(true)
      expect(Exit.hasDies(viaSubmitWith)).toBe(true)
      expect(Cause.isIllegalArgumentError(squashed(viaSubmit))).toBe(true)
      expect(Cause.isIllegalArgumentError(squashed(viaSubmitWith))).toBe(true)
      expect((squashed(viaSubmitWith) as Error).message).toBe((squashed(viaSubmit) as Error).message)
    }).pipe(Effect.provide(layer({ maxWorkers: 1 })), Effect.timeout("30 seconds"))
  )
})

/** Pools whose initializer fails, so the first task breaks them. */
const breakingPools: ReadonlyArray<readonly [string, Layer.Layer<Executor.Executor, unknown>]> = [
  [
    "ThreadPoolExecutor",
    ThreadPoolExecutor.layer({
      maxWorkers: 1,
      initializer: () => {
        throw new Error("the initializer failed")
      }
    })
  ],
  [
    "InterpreterPoolExecutor",
    InterpreterPoolExecutor.layer({
      maxWorkers: 1,
      initializer: tasks.failingInit,
      initargs: ["the initializer failed"]
    })
  ],
  [
    "ProcessPoolExecutor",
    ProcessPoolExecutor.layer({ maxWorkers: 1, initializer: tasks.failingInit, initargs: ["the initializer failed"] })
  ]
]

describe.each(breakingPools)("%s, broken then shut down", (_name, layer) => {
  it.live("a submitWith whose signal is already aborted fails with BrokenExecutor, as submit does", () =>
    Effect.gen(function* () {
      const executor = yield* Executor.Executor
      const first = yield* executor.submit(tasks.add, 1, 2)
      expect(squashed(yield* exitOf(first))).toMatchObject({ _tag: "BrokenExecutor" })
      yield* executor.shutdown()
      const viaSubmit = yield* Effect.flip(executor.submit(tasks.add, 1, 2))
      const viaSubmitWith = yield* Effect.flip(executor.submitWith({ signal: AbortSignal.abort() })(tasks.add, 1, 2))
      expect(viaSubmit).toMatchObject({ _tag: "BrokenExecutor" })
      expect(viaSubmitWith).toMatchObject({ _tag: "BrokenExecutor" })
    }).pipe(Effect.provide(layer), Effect.timeout("30 seconds"))
  )
})

describe.each(pools.slice(1))("%s: calls a worker holds", (name, layer) => {
  const inside = (executor: Executor.Service) => poolOf(executor)!
  /** `killWorkers()`: the process pool's own, the same machinery on the interpreter pool. */
  const killWorkers = (executor: Executor.Service): Effect.Effect<void> =>
    name === "ProcessPoolExecutor"
      ? (executor as ProcessPoolExecutor.ProcessPoolExecutor).killWorkers()
      : inside(executor).forceShutdown("SIGKILL", "killWorkers")
  /** The most calls one worker holds (sent, not yet answered). */
  const maxHeld = (executor: Executor.Service): number =>
    Math.max(
      0,
      ...[...(inside(executor) as unknown as { workers: Set<{ items: { size: number } }> }).workers].map(
        (worker) => worker.items.size
      )
    )

  it.live("timeout counts from the start of the run, not from when the call reached its worker in a batch", () =>
    Effect.gen(function* () {
      const executor = yield* Executor.Executor
      // A started worker: the times below count from when the calls are sent.
      expect(yield* result(yield* Executor.submit(tasks.add, 1, 1))).toBe(2)
      // Say calls are tiny, so they go in batches: a dozen wait in the worker behind the one running.
      ;(inside(executor) as unknown as { balancer: { millisPerCall: number } }).balancer.millisPerCall = 0.001
      const futures = yield* Effect.forEach(range(24), (i) =>
        Executor.submitWith({ timeout: "800 millis" })(tasks.sleepThenReturn, 100, i)
      )
      yield* Effect.yieldNow
      expect(maxHeld(executor), "calls the worker holds").toBeGreaterThan(8)
      const exits = yield* Effect.forEach(futures, exitOf)
      expect(exits.filter(Exit.isFailure).map(squashed)).toEqual([])
      expect(exits.map((exit) => (Exit.isSuccess(exit) ? exit.value : undefined))).toEqual(range(24))
    }).pipe(Effect.provide(layer({ maxWorkers: 1 })), Effect.timeout("30 seconds"))
  )

  it.live("killWorkers() fails a call waiting to run again, and no worker starts after it", () =>
    Effect.gen(function* () {
      const { file, lines } = yield* tempFile("kill-requeued-")
      yield* Effect.gen(function* () {
        const executor = yield* Executor.Executor
        const retried = yield* Executor.submitWith({
          retries: Schedule.spaced("200 millis").pipe(Schedule.upTo({ times: 1 }))
        })(failTimesTask, file, 1, "second attempt")
        const busy = yield* Executor.submit(tasks.sleepHonouringSignal, 20_000)
        yield* untilRunning(busy)
        // The retry's wait ends while the only worker is busy: the call waits, taken back, to run again.
        yield* Effect.sync(() => inside(executor).gauges().queueDepth()).pipe(
          Effect.repeat({ until: (depth) => depth === 1, schedule: Schedule.spaced("5 millis") }),
          Effect.timeout("10 seconds")
        )
        expect(lines()).toEqual(["1"])
        yield* killWorkers(executor).pipe(Effect.timeout("10 seconds"))
        expect(squashed(yield* exitOf(retried))).toMatchObject({ _tag: "BrokenExecutor" })
        expect(squashed(yield* exitOf(busy))).toMatchObject({ _tag: "BrokenExecutor" })
        expect(inside(executor).gauges().queueDepth()).toBe(0)
        expect(inside(executor).gauges().busy() + inside(executor).gauges().idle()).toBe(0)
      }).pipe(Effect.provide(layer({ maxWorkers: 1 })), Effect.timeout("30 seconds"))
      expect(lines()).toEqual(["1"])
    })
  )

  it.live("a timed call taken back from a dead worker gets a fresh timeout on the next worker", () =>
    Effect.gen(function* () {
      const executor = yield* Executor.Executor
      // A started worker: the times below count from when the calls are sent.
      expect(yield* result(yield* Executor.submit(tasks.add, 1, 1))).toBe(2)
      // Tiny calls go in batches once measured: say they are tiny, so the timed call waits in the worker.
      ;(inside(executor) as unknown as { balancer: { millisPerCall: number } }).balancer.millisPerCall = 0.001
      const crashing = yield* Executor.submit(faults.exitWith, 1, 2000)
      const timed = yield* Executor.submitWith({ timeout: "3 seconds" })(tasks.sleepHonouringSignal, 1200)
      const filler = yield* Executor.submit(tasks.add, 1, 2)
      yield* Effect.yieldNow
      expect(maxHeld(executor), "calls the crashing worker holds").toBeGreaterThan(1)
      expect(squashed(yield* exitOf(crashing))).toMatchObject({ _tag: "WorkerDied" })
      // Taken back 2 seconds after it was first sent, it runs for 1.2 seconds: past the first timer's end.
      expect(yield* result(timed)).toBe("slept")
      expect(yield* result(filler)).toBe(3)
    }).pipe(
      Effect.provide(
        layer({ maxWorkers: 1, onWorkerDeath: "replace" } as Executor.PoolOptions & { maxWorkers: number })
      ),
      Effect.timeout("30 seconds")
    )
  )
})

describe("timers on Effect's clock", () => {
  /** A wait on real time, inside a test whose clock is the TestClock: `none` past its deadline. */
  const live = <A, E>(self: Effect.Effect<A, E>) => TestClock.withLive(Effect.timeoutOption(self, "10 seconds"))

  it.effect("map's timeout counts on the stream's Clock: TestClock.adjust reaches its deadline", () =>
    Effect.gen(function* () {
      const sleepFor = (ms: number) => Effect.as(Effect.sleep(ms), ms)
      const consumer = yield* Effect.forkChild(
        Stream.runCollect(Executor.map(sleepFor, [600, 1500], { timeout: "1 second" })),
        { startImmediately: true }
      )
      // The first result comes 600 ms into the stream; the wait for the next one starts then.
      yield* TestClock.adjust("600 millis")
      yield* live(Effect.sleep("20 millis"))
      expect(consumer.pollUnsafe()).toBeUndefined()
      yield* TestClock.adjust("400 millis")
      const exit = yield* live(Fiber.await(consumer))
      // The second call ends too, so the pool's close need not wait for it.
      yield* TestClock.adjust("1 second")
      yield* Fiber.interrupt(consumer)
      expect(Option.map(exit, (e) => Cause.isTimeoutError(squashed(e)))).toEqual(Option.some(true))
    }).pipe(Effect.provide(ThreadPoolExecutor.layer({ maxWorkers: 2 })))
  )

  describe.each(pools.slice(1))("%s", (_name, layer) => {
    it.effect("a task's timeout counts on the pool's Clock: TestClock.adjust past it fails the task at once", () =>
      Effect.gen(function* () {
        const future = yield* Executor.submitWith({ timeout: "1 hour" })(startThenSleep, 15_000)
        // Its progress comes after the worker said it started the call, so its timer runs by then.
        yield* live(Stream.runHead(Future.progress(future)))
        yield* TestClock.adjust("1 hour")
        const exit = yield* live(Future.await(future))
        expect(Option.isSome(exit), "the task's end within 10 seconds").toBe(true)
        const error = Option.isSome(exit) ? squashed(exit.value) : undefined
        expect(Cause.isTimeoutError(error)).toBe(true)
        expect((error as Error).message).toContain("did not finish within its timeout of 1h")
      }).pipe(Effect.provide(layer({ maxWorkers: 1 })))
    )
  })
})

describe("Task.progress outside a task", () => {
  it("returns false: the value goes nowhere", () => {
    expect(Task.progress(1)).toBe(false)
  })
})

describe("options beyond Python: bad values", () => {
  it.effect("bad pool options fail with IllegalArgumentError naming the option, the value and the rule", () =>
    Effect.gen(function* () {
      const cases: ReadonlyArray<readonly [Executor.PoolOptions, string]> = [
        [{ maxQueue: -1 }, "maxQueue must be a whole number of pending tasks (0 or more), got -1"],
        [{ maxQueue: 1.5 }, "maxQueue must be a whole number of pending tasks (0 or more), got 1.5"],
        [{ whenFull: "drop" as never }, 'whenFull must be "suspend" or "reject", got "drop"'],
        [{ failOnUnobserved: "yes" as never }, 'failOnUnobserved must be a boolean, got "yes"']
      ]
      for (const [options, message] of cases) {
        for (const [name, layer] of pools) {
          const error = yield* Effect.flip(Effect.scoped(Layer.build(layer({ maxWorkers: 1, ...options }))))
          expect(Cause.isIllegalArgumentError(error)).toBe(true)
          expect((error as Error).message).toBe(`${name}: ${message}`)
        }
      }
    })
  )

  it.effect("bad submitWith options are a defect with IllegalArgumentError", () =>
    Effect.gen(function* () {
      const cases: ReadonlyArray<readonly [Executor.SubmitOptions, string]> = [
        [
          { priority: Number.NaN },
          "submitWith: priority must be a finite number (higher runs first, default 0), got NaN"
        ],
        [{ timeout: -5 }, "submitWith: timeout must be zero or more, got -5"],
        [{ retries: -1 }, "submitWith: retries must be a whole number of retries (0 or more) or a Schedule, got -1"],
        [
          { retries: "twice" as never },
          'submitWith: retries must be a whole number of retries (0 or more) or a Schedule, got "twice"'
        ],
        [{ signal: {} as never }, "submitWith: signal must be an AbortSignal, got {}"]
      ]
      for (const [options, message] of cases) {
        const exit = yield* Effect.exit(Executor.submitWith(options)(() => 1))
        const defect = squashed(exit)
        expect(Cause.isIllegalArgumentError(defect)).toBe(true)
        expect((defect as Error).message).toBe(message)
      }
    }).pipe(Effect.provide(ThreadPoolExecutor.layer({ maxWorkers: 1 })))
  )
})
