/**
 * Bad input: each mistake fails with a typed error whose message names what
 * was wrong and says what is expected, and nothing is lost on the way (no
 * task runs, no worker starts, what was submitted before still completes,
 * the pool stays usable).
 *
 * Already covered elsewhere, and not repeated here:
 * - `maxWorkers` 0, negative, fractional, NaN: `ThreadPoolExecutor.test.ts`
 *   ("maxWorkers") and the worker pool suite (`suites/workerPool.ts`, "options");
 * - `buffersize` 0, -1, 2.5 on every pool and `chunksize` -1 on the worker
 *   pools: the executor and worker pool suites;
 * - a `Future.result`/`exception` timeout that is negative, NaN or unreadable
 *   (`Future.test.ts`); a `wait`/`asCompleted` timeout that is not a duration
 *   (`Future.wait.test.ts`, `Future.asCompleted.test.ts`);
 * - a plain function or an Effect submitted to a worker pool, and a Task whose
 *   module or export is missing or is not a Task (the worker pool suite);
 * - an initializer that is a plain function on a worker pool (the worker pool suite);
 * - `setResult`/`setException` twice (`Future.test.ts`, "setting results");
 * - a negative `interruptGrace` on the interpreter pool, a bad `maxTasksPerChild`
 *   on both worker pools.
 */
import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit, type Scope, Stream } from "effect"
import {
  Executor,
  ExecutorShutdownError,
  Future,
  InterpreterPoolExecutor,
  ProcessPoolExecutor,
  Task,
  ThreadPoolExecutor
} from "../src/index.ts"
import * as tasks from "./fixtures/tasks.ts"
import { childProcesses } from "./soak/soak.ts"

/** Every wait on a future is bounded. */
const timeout = "15 seconds"

type PoolName = "ThreadPoolExecutor" | "InterpreterPoolExecutor" | "ProcessPoolExecutor"

const pools: ReadonlyArray<{
  readonly name: PoolName
  readonly make: (options: { readonly maxWorkers?: number }) => Effect.Effect<Executor.Service, unknown, Scope.Scope>
}> = [
  { name: "ThreadPoolExecutor", make: (options) => ThreadPoolExecutor.make(options) },
  { name: "InterpreterPoolExecutor", make: (options) => InterpreterPoolExecutor.make(options) },
  { name: "ProcessPoolExecutor", make: (options) => ProcessPoolExecutor.make(options) }
]

/** `submit` and `map` with a value the types refuse, as untyped JavaScript could pass one. */
const submitAny = (executor: Executor.Service, task: unknown, ...args: Array<unknown>) =>
  (
    executor.submit as (
      task: unknown,
      ...args: Array<unknown>
    ) => Effect.Effect<Future.Future<unknown, unknown>, Executor.SubmitError>
  )(task, ...args)
const mapAny = (executor: Executor.Service, task: unknown, ...rest: Array<unknown>) =>
  (executor.map as (task: unknown, ...rest: Array<unknown>) => Stream.Stream<unknown, unknown>)(task, ...rest)

/** The pool's name with its article: "an InterpreterPoolExecutor". */
const an = (name: string): string => `${/^[AEIOU]/.test(name) ? "an" : "a"} ${name}`

/** The error a failed or died exit carries. */
const errorOf = (exit: Exit.Exit<unknown, unknown>): unknown =>
  Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined

/** The exit's error is an `IllegalArgumentError` whose message is exactly `message` (or matches it). */
const expectIllegal = (exit: Exit.Exit<unknown, unknown>, message: string | RegExp): void => {
  expect(Exit.isFailure(exit), "expected a failure").toBe(true)
  const error = errorOf(exit)
  expect(Cause.isIllegalArgumentError(error), `expected IllegalArgumentError, got ${String(error)}`).toBe(true)
  if (typeof message === "string") expect((error as Error).message).toBe(message)
  else expect((error as Error).message).toMatch(message)
}

/** Bad options of `map`, each with the exact message it must fail with. */
const mapCases: ReadonlyArray<readonly [string, Executor.MapOptions, string]> = [
  ["chunksize 0", { chunksize: 0 }, "map: chunksize must be a whole number greater than 0, got 0"],
  ["chunksize 1.5", { chunksize: 1.5 }, "map: chunksize must be a whole number greater than 0, got 1.5"],
  ["chunksize NaN", { chunksize: Number.NaN }, "map: chunksize must be a whole number greater than 0, got NaN"],
  ["buffersize NaN", { buffersize: Number.NaN }, "map: buffersize must be a whole number greater than 0, got NaN"],
  ["a negative timeout", { timeout: -1 }, "map: timeout must be zero or more, got -1"],
  ["a negative duration", { timeout: "-5 seconds" }, 'map: timeout must be zero or more, got "-5 seconds"'],
  ["a NaN timeout", { timeout: Number.NaN }, "map: timeout must be a number of milliseconds, got NaN"],
  [
    "a timeout that is not a duration",
    { timeout: "soon" as any },
    'map: timeout must be a Duration.Input such as "2 seconds" or 500 (milliseconds), got "soon"'
  ]
]

/** Each bad option fails the map stream with its message, as a typed failure (`MapError`); then a good map works. */
const checkMapOptions = (executor: Executor.Service) =>
  Effect.gen(function* () {
    for (const [what, options, message] of mapCases) {
      const exit = yield* Effect.exit(Stream.runCollect(executor.map(tasks.add, [1, 2], [3, 4], options)))
      expect(Exit.hasDies(exit), `${what}: a typed failure, as MapError says`).toBe(false)
      expectIllegal(exit, message)
    }
    expect(yield* Stream.runCollect(executor.map(tasks.add, [1, 2], [3, 4])).pipe(Effect.timeout(timeout))).toEqual([
      4, 6
    ])
  })

describe("bad input", () => {
  describe("options of make", () => {
    for (const { name, make } of pools) {
      for (const [bad, shown] of [
        ["2", '"2"'],
        [Number.POSITIVE_INFINITY, "Infinity"],
        [Number.NEGATIVE_INFINITY, "-Infinity"]
      ] as const) {
        it.live(`${name}: maxWorkers ${shown} fails make, naming the option, the rule and the value`, () =>
          Effect.gen(function* () {
            const before = childProcesses()
            const exit = yield* Effect.exit(Effect.scoped(make({ maxWorkers: bad as number })))
            expect(Exit.hasDies(exit)).toBe(false)
            // -Infinity is "not greater than 0" on the worker pools, "not a whole number" on the thread pool.
            expectIllegal(
              exit,
              new RegExp(`^${name}: maxWorkers must be (a whole number )?greater than 0, got ${shown}$`)
            )
            // Nothing started: no child process appeared.
            expect(childProcesses().filter((pid) => !before.includes(pid))).toEqual([])
          })
        )
      }
    }

    it.effect("ThreadPoolExecutor: an initializer that is no Effect, function or Task fails make", () =>
      Effect.gen(function* () {
        const exit = yield* Effect.exit(Effect.scoped(ThreadPoolExecutor.make({ initializer: 42 as any })))
        expectIllegal(exit, "ThreadPoolExecutor: initializer must be an Effect, a function or a Task, got 42")
      })
    )

    for (const make of [InterpreterPoolExecutor.make, ProcessPoolExecutor.make]) {
      it.effect(
        `${make === InterpreterPoolExecutor.make ? "Interpreter" : "Process"}PoolExecutor: an Effect as initializer fails make, saying a Task is needed and why`,
        () =>
          Effect.gen(function* () {
            const exit = yield* Effect.exit(Effect.scoped(make({ maxWorkers: 1, initializer: Effect.void as any })))
            expectIllegal(
              exit,
              /^(Interpreter|Process)PoolExecutor: initializer must be a Task \(Task\.make\(import\.meta\.url, name, fn\)\), since it runs in each worker, got an Effect$/
            )
          })
      )
    }

    it.effect("ProcessPoolExecutor: an interruptGrace that is not a duration, or negative, fails make", () =>
      Effect.gen(function* () {
        expectIllegal(
          yield* Effect.exit(Effect.scoped(ProcessPoolExecutor.make({ interruptGrace: "soon" as any }))),
          'ProcessPoolExecutor: interruptGrace must be a Duration.Input such as "2 seconds" or 500 (milliseconds), got "soon"'
        )
        expectIllegal(
          yield* Effect.exit(Effect.scoped(ProcessPoolExecutor.make({ interruptGrace: -1 }))),
          "ProcessPoolExecutor: interruptGrace must be zero or more, got -1"
        )
      })
    )
  })

  it.live("ThreadPoolExecutor: each bad option of map fails the stream with IllegalArgumentError; no call runs", () =>
    Effect.gen(function* () {
      const executor = yield* ThreadPoolExecutor.make({ maxWorkers: 1 })
      yield* checkMapOptions(executor)
      // A plain function shows that no call ran at all.
      let calls = 0
      const count = (x: number) => ++calls + x
      for (const [, options] of mapCases) yield* Effect.exit(Stream.runCollect(executor.map(count, [1, 2], options)))
      expect(calls).toBe(0)
    }).pipe(Effect.scoped)
  )

  describe("timeouts of wait and asCompleted", () => {
    for (const [what, bad, message] of [
      ["negative", -1, "timeout must be zero or more, got -1"],
      ["a negative duration", "-1 second", 'timeout must be zero or more, got "-1 second"'],
      ["NaN", Number.NaN, "timeout must be a number of milliseconds, got NaN"]
    ] as const) {
      it.effect(`a ${what} timeout is a defect with IllegalArgumentError, and the futures are untouched`, () =>
        Effect.gen(function* () {
          const f = yield* Future.make<number>()
          const waited = yield* Effect.exit(Future.wait([f], { timeout: bad as any }))
          expect(Exit.hasDies(waited)).toBe(true)
          expectIllegal(waited, message)
          const streamed = yield* Effect.exit(Stream.runDrain(Future.asCompleted([f], { timeout: bad as any })))
          expect(Exit.hasDies(streamed)).toBe(true)
          expectIllegal(streamed, message)
          // The future is still pending and completes as usual.
          expect(yield* Future.state(f)).toBe("PENDING")
          yield* Future.setResult(f, 7)
          expect((yield* Future.wait([f], { timeout: 0 })).done.has(f)).toBe(true)
          expect(yield* Future.result(f, { timeout: 0 })).toBe(7)
        })
      )
    }
  })

  describe("what is submitted", () => {
    it.live(
      "ThreadPoolExecutor: a value that is no task fails its own future, naming what it got; the pool goes on",
      () =>
        Effect.gen(function* () {
          const executor = yield* ThreadPoolExecutor.make({ maxWorkers: 1 })
          const before = yield* executor.submit(() => "before")
          for (const [bad, shown] of [
            [42, "a number"],
            [null, "null"],
            [{ run: () => 1 }, "an object (Object)"],
            ["f", "a string"]
          ] as const) {
            const future = yield* submitAny(executor, bad)
            const exit = yield* Future.await(future).pipe(Effect.timeout(timeout))
            expect(Exit.hasDies(exit)).toBe(true)
            expectIllegal(exit, `submit: a task must be an Effect, a function or a Task, got ${shown}`)
          }
          const mapped = yield* Effect.exit(Stream.runCollect(mapAny(executor, 42, [1])))
          expect(Exit.hasDies(mapped)).toBe(true)
          expectIllegal(mapped, "submit: a task must be an Effect, a function or a Task, got a number")
          expect(yield* Future.result(before, { timeout })).toBe("before")
          expect(yield* Future.result(yield* executor.submit(() => "after"), { timeout })).toBe("after")
        }).pipe(Effect.scoped)
    )

    it("Task.make refuses a module that is not a URL, an empty name and a fn that is not a function", () => {
      expect(() => Task.make("./tasks.ts", "add", () => 1)).toThrow(
        new TypeError('Task.make: module must be a module URL such as import.meta.url, got "./tasks.ts"')
      )
      expect(() => Task.make("", "add", () => 1)).toThrow(
        new TypeError('Task.make: module must be a module URL such as import.meta.url, got ""')
      )
      expect(() => Task.make(import.meta.url, "", () => 1)).toThrow(
        new TypeError(`Task.make: name must be the export's name, got ""`)
      )
      expect(() => Task.make(import.meta.url, "add", 42 as any)).toThrow(
        new TypeError(`Task.make: the task add of ${import.meta.url} needs a function, got number`)
      )
    })
  })

  // One pool for each worker pool's checks below, since starting workers is what costs.
  for (const [name, layer] of [
    ["InterpreterPoolExecutor", InterpreterPoolExecutor.layer({ maxWorkers: 1 })],
    ["ProcessPoolExecutor", ProcessPoolExecutor.layer({ maxWorkers: 1 })]
  ] as const) {
    it.layer(layer, { excludeTestServices: true })(`${name}: bad calls on one pool`, (it) => {
      it.effect("each bad option of map fails the stream with IllegalArgumentError; the pool stays usable", () =>
        Effect.flatMap(Executor.Executor, checkMapOptions)
      )

      it.effect("a value that is no task makes submit itself die, and the map, saying a Task is needed and why", () =>
        Effect.gen(function* () {
          const executor = yield* Executor.Executor
          for (const [bad, shown] of [
            [42, "a number"],
            [null, "null"],
            ["add", "a string"],
            [(a: number) => a, "a function"]
          ] as const) {
            // A programming error: submit dies at once, with no future to read later.
            const exit = yield* Effect.exit(submitAny(executor, bad))
            expect(Exit.hasDies(exit)).toBe(true)
            expectIllegal(
              exit,
              `submit: ${an(name)} runs Tasks (Task.make(import.meta.url, name, fn)), since a worker must import the function; got ${shown}`
            )
          }
          const mapped = yield* Effect.exit(Stream.runCollect(mapAny(executor, 42, [1])))
          expect(Exit.hasDies(mapped)).toBe(true)
          expectIllegal(mapped, new RegExp(`^map: ${an(name)} runs Tasks .*; got a number$`))
          expect(yield* Future.result(yield* executor.submit(tasks.add, 1, 2), { timeout })).toBe(3)
        })
      )

      it.effect(
        "Tasks with a missing module or export fail with TaskImportError among healthy calls sent together",
        () =>
          Effect.gen(function* () {
            const executor = yield* Executor.Executor
            const missingModule = Task.make("file:///nonexistent/effect-futures/gone.ts", "gone", () => 1)
            const missingExport = Task.make(tasks.add.module, "noSuchTask", () => 1)
            // One burst, so the bad calls travel in the same batches as the good ones.
            const futures = yield* Effect.forEach([0, 1, 2, 3, 4, 5, 6, 7], (i) =>
              i === 2
                ? executor.submit(missingModule)
                : i === 5
                  ? executor.submit(missingExport)
                  : executor.submit(tasks.add, i, 100)
            )
            const exits = yield* Effect.forEach(futures, (f) => Future.await(f).pipe(Effect.timeout(timeout)))
            for (const [i, exit] of exits.entries()) {
              if (i === 2 || i === 5) {
                expect(Exit.hasDies(exit), `call ${i}`).toBe(true)
                const defect = errorOf(exit) as Error
                expect(defect.name).toBe("TaskImportError")
                if (i === 2) {
                  expect(defect.message).toContain('cannot import the module of task "gone"')
                  expect(defect.message).toContain("file:///nonexistent/effect-futures/gone.ts")
                } else {
                  expect(defect.message).toContain(
                    `${tasks.add.module} has no export "noSuchTask" made with Task.make; its Task exports: add, `
                  )
                }
              } else {
                expect(exit, `call ${i}`).toEqual(Exit.succeed(i + 100))
              }
            }
          })
      )
    })
  }

  describe("submit after shutdown", () => {
    for (const { name, make } of pools) {
      it.live(
        `${name}: submit and map fail with ExecutorShutdownError; what was submitted before still completes`,
        () =>
          Effect.gen(function* () {
            const executor = yield* make({ maxWorkers: 1 })
            const before = yield* Effect.forEach([1, 2, 3], (i) => executor.submit(tasks.sleepThenReturn, 20, i))
            yield* executor.shutdown({ wait: false })
            const error = yield* Effect.flip(executor.submit(tasks.add, 1, 2))
            expect(error).toBeInstanceOf(ExecutorShutdownError)
            expect(error.message).toBe("cannot schedule new futures after shutdown")
            const mapped = yield* Effect.flip(Stream.runCollect(executor.map(tasks.add, [1], [2])))
            expect(mapped).toBeInstanceOf(ExecutorShutdownError)
            if (name !== "ThreadPoolExecutor") {
              // What no worker can run is a programming error, reported whatever the pool's state.
              const notATask = yield* Effect.exit(submitAny(executor, (a: number) => a, 1))
              expect(Exit.hasDies(notATask)).toBe(true)
              expectIllegal(notATask, new RegExp(`^submit: ${an(name)} runs Tasks`))
            }
            expect(yield* Effect.forEach(before, (f) => Future.result(f, { timeout }))).toEqual([1, 2, 3])
          }).pipe(Effect.scoped)
      )
    }
  })
})
