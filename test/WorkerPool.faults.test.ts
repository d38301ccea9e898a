/**
 * Faults in the worker pools: errors, exits, crashes, uncaught errors and
 * values that cannot be cloned. Every wait has a deadline, so a deadlock fails
 * its test, naming what hung, instead of hanging the run.
 *
 * Mirrors CPython's `Lib/test/test_concurrent_futures/test_deadlock.py`
 * (`ExecutorDeadlockTest` with its `_check_error` and `_fail_on_deadlock`),
 * run on `InterpreterPoolExecutor` and `ProcessPoolExecutor` as
 * `create_executor_tests` runs it on each start method.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit, type Scope, Stream } from "effect"
import {
  BrokenExecutor,
  type Executor,
  type ExecutorKind,
  Future,
  InterpreterPoolExecutor,
  ProcessPoolExecutor,
  SerializationError
} from "../src/index.ts"
import { awaitExit, expectFailure, failureOf, within, withPoolUnder } from "./fixtures/deadlock.ts"
import * as faults from "./fixtures/faults.ts"
import { isAlive, survivors } from "./fixtures/processes.ts"
import { add } from "./fixtures/tasks.ts"

type AnyFuture = Future.Future<unknown, unknown>

/** Starting workers on a loaded machine. */
const startDeadline = "15 seconds"
/** A broken pool fails its running and pending futures within this. */
const breakDeadline = "2 seconds"
/** `shutdown`, the scope's close, `killWorkers()`. */
const shutdownDeadline = "5 seconds"
/** A healthy call on a started pool. */
const callDeadline = "5 seconds"

/** A pool under test, as CPython's executor mixins. */
interface PoolCase {
  readonly name: string
  readonly kind: ExecutorKind
  readonly worker: "thread" | "process"
  readonly make: (options: { readonly maxWorkers: number }) => Effect.Effect<Executor.Service, unknown, Scope.Scope>
}

const pools: ReadonlyArray<PoolCase> = [
  {
    name: "InterpreterPoolExecutor",
    kind: "InterpreterPool",
    worker: "thread",
    make: (options) => InterpreterPoolExecutor.make(options)
  },
  {
    name: "ProcessPoolExecutor",
    kind: "ProcessPool",
    worker: "process",
    make: (options) => ProcessPoolExecutor.make(options)
  }
]

/**
 * CPython's `_check_error` around a body: a fresh pool in its own scope, then
 * the scope's close (`shutdown({ wait: true })`) with a deadline; past it, the
 * workers are killed and the test fails with a `Deadlock`. A deadlock in the
 * body stops the workers first, as `_fail_on_deadlock` does, so the close
 * cannot hang too.
 */
const withPool = withPoolUnder({ shutdownDeadline, killFirstOn: "deadlock" })

/** Starts `n` workers (calls sent at once go to different workers) and says where each runs. */
const startWorkers = (executor: Executor.Service, n: number) =>
  Effect.gen(function* () {
    const futures = yield* Effect.forEach(Array.from({ length: n }), () => executor.submit(faults.workerId, 50))
    return yield* Effect.forEach(futures, (future) => within(Future.result(future), startDeadline, "starting workers"))
  })

/** The future failed with the pool's `BrokenExecutor`, for the reason `reason` matches. */
const expectBroken = (exit: Exit.Exit<unknown, unknown>, kind: ExecutorKind, reason: RegExp): BrokenExecutor => {
  const broken = expectFailure(exit, BrokenExecutor, "BrokenExecutor")
  expect(broken.kind).toBe(kind)
  expect(broken.reason).toMatch(reason)
  return broken
}

/** The future failed with `SerializationError` in `direction`, its message naming `type`. */
const expectUnclonable = (exit: Exit.Exit<unknown, unknown>, direction: "argument" | "result", type: RegExp): void => {
  const unclonable = expectFailure(exit, SerializationError, "SerializationError")
  expect(unclonable.direction).toBe(direction)
  expect(unclonable.message).toContain(direction)
  expect(unclonable.message).toMatch(type)
}

/** The pool still runs calls. */
const expectHealthy = (executor: Executor.Service) =>
  Effect.gen(function* () {
    const future = yield* executor.submit(faults.identity, 42)
    expect(yield* within(Future.result(future), callDeadline, "a call on a healthy pool")).toBe(42)
  })

/** How a test breaks a pool whose two workers are busy. */
interface Crash {
  /** Submits the call that breaks the pool, while another worker runs a long call. */
  readonly submit: (executor: Executor.Service) => Effect.Effect<AnyFuture, Executor.SubmitError>
  /** Breaks the pool from outside once the calls are running and pending. */
  readonly trigger?: (workers: ReadonlyArray<faults.WorkerId>) => void
  /** The call crashes as it starts, too soon to see the other calls' states first. */
  readonly immediate?: boolean
  /** What the breaking call's own future may end with (default: the same `BrokenExecutor`). */
  readonly check?: (exit: Exit.Exit<unknown, unknown>) => void
}

/**
 * CPython's `_check_error(BrokenProcessPool, ...)`: one worker runs a long
 * call, the other the breaking one, a third call waits. Within
 * `breakDeadline` of the crash the running and pending futures fail with one
 * `BrokenExecutor` whose reason `reason` matches; a later submit fails with it.
 */
const checkBroken = (pool: PoolCase, crash: Crash, reason: RegExp) =>
  withPool(pool.make({ maxWorkers: 2 }), (executor) =>
    Effect.gen(function* () {
      const workers = yield* startWorkers(executor, 2)
      const running = yield* executor.submit(faults.sleep, 60_000)
      yield* Effect.yieldNow
      const crashing = yield* crash.submit(executor)
      const pending = yield* executor.submit(faults.sleep, 10)
      yield* Effect.yieldNow
      if (crash.immediate !== true) {
        expect(yield* Future.state(running)).toBe("RUNNING")
        expect(yield* Future.state(crashing)).toBe("RUNNING")
        expect(yield* Future.state(pending)).toBe("PENDING")
      }
      crash.trigger?.(workers)
      const [runningExit, crashingExit, pendingExit] = yield* Effect.forEach(
        [running, crashing, pending],
        (future) => awaitExit(future, breakDeadline, "a broken pool failing its futures"),
        { concurrency: "unbounded" }
      )
      const broken = expectBroken(runningExit, pool.kind, reason)
      expect(expectBroken(pendingExit, pool.kind, reason).reason).toBe(broken.reason)
      if (crash.check !== undefined) crash.check(crashingExit)
      else expect(expectBroken(crashingExit, pool.kind, reason).reason).toBe(broken.reason)
      const later = yield* Effect.flip(executor.submit(faults.identity, 1))
      expect(later).toBeInstanceOf(BrokenExecutor)
      expect((later as BrokenExecutor).reason).toBe(broken.reason)
    })
  )

/** Arguments structured clone refuses, as CPython's `ErrorAtPickle`: what each is, the value, how the error names it. */
const unclonableArguments: ReadonlyArray<readonly [string, unknown, RegExp]> = [
  ["a function", function callback() {}, /function callback/],
  ["a class instance with a function field", new faults.WithCallback("argument"), /callback: function/],
  ["a symbol", Symbol("token"), /symbol token/]
]

const range = (n: number): Array<number> => Array.from({ length: n }, (_, i) => i)

/** The fault tests' program: a process pool under `NodeRuntime.runMain`. */
const programPath = fileURLToPath(new URL("./fixtures/runMainProgram.ts", import.meta.url))

/** What `runMainProgram.ts` prints once its two workers are busy. */
interface ProgramReport {
  readonly pids: ReadonlyArray<number>
  readonly running: ReadonlyArray<boolean>
}

/** Spawns the runMain program and reads its report; whatever is left of it is killed when the test ends. */
const startProgram = Effect.gen(function* () {
  const child = spawn(process.execPath, [programPath], { stdio: ["ignore", "pipe", "pipe"] })
  const pids: Array<number> = []
  yield* Effect.addFinalizer(() =>
    Effect.sync(() => {
      for (const pid of [child.pid ?? -1, ...pids]) if (pid > 0 && isAlive(pid)) process.kill(pid, "SIGKILL")
    })
  )
  let stderr = ""
  child.stderr.on("data", (chunk) => {
    stderr += chunk
  })
  const line = yield* within(
    Effect.callback<string, Error>((resume) => {
      let stdout = ""
      child.stdout.on("data", (chunk) => {
        stdout += chunk
        const end = stdout.indexOf("\n")
        if (end >= 0) resume(Effect.succeed(stdout.slice(0, end)))
      })
      child.once("exit", (code, signal) =>
        resume(Effect.fail(new Error(`the program exited (${code ?? signal}) before its report: ${stderr}`)))
      )
    }),
    startDeadline,
    "the runMain program starting its workers"
  )
  const report = JSON.parse(line) as ProgramReport
  pids.push(...report.pids)
  return { child, report }
})

/** The child's exit code and signal, once it has exited. */
const exited = (child: ChildProcess) =>
  Effect.callback<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>((resume) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resume(Effect.succeed({ code: child.exitCode, signal: child.signalCode }))
      return
    }
    child.once("exit", (code, signal) => resume(Effect.succeed({ code, signal })))
  })

for (const pool of pools) {
  describe(pool.name, () => {
    it.live("an error raised in a task fails that future with it, and the pool runs the next task", () =>
      withPool(pool.make({ maxWorkers: 1 }), (executor) =>
        Effect.gen(function* () {
          const future = yield* executor.submit(faults.raiseError, "boom")
          const exit = yield* awaitExit(future, startDeadline, "a failing call")
          expect(Exit.hasDies(exit)).toBe(true)
          const defect = Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined
          expect(defect).toBeInstanceOf(Error)
          expect(defect).toMatchObject({ name: "FaultError", message: "boom" })
          expect((defect as Error).stack).toContain("faults.ts")
          yield* expectHealthy(executor)
        })
      )
    )

    it.live("process.exit(1) in a task breaks the pool: running and pending futures fail with BrokenExecutor", () =>
      checkBroken(pool, { submit: (executor) => executor.submit(faults.exitWith, 1, 150) }, /exited with code 1/)
    )

    it.live("process.exit(1) in the task's own call breaks the pool at once", () =>
      checkBroken(
        pool,
        { submit: (executor) => executor.submit(faults.exitWith, 1, 0), immediate: true },
        /exited with code 1/
      )
    )

    it.live("an error thrown in the worker's event loop breaks the pool, naming the error", () =>
      checkBroken(
        pool,
        { submit: (executor) => executor.submit(faults.throwInEventLoop, "uncaught in a timer", 150) },
        /uncaught exception: FaultError: uncaught in a timer/
      )
    )

    it.live("a worker that exits while sending a 20 MB result breaks the pool", () =>
      checkBroken(
        pool,
        {
          submit: (executor) => executor.submit(faults.bigResultThenExit, 20, 3, 150),
          // A thread's message is whole once posted: it may arrive before the exit, intact.
          check: (exit) => {
            if (pool.worker === "thread" && Exit.isSuccess(exit)) {
              const value = exit.value as Uint8Array
              expect(value.length).toBe(20 * 1024 * 1024)
              expect(value.every((byte) => byte === 97)).toBe(true)
            } else {
              expectBroken(exit, pool.kind, /exited with code 3/)
            }
          }
        },
        /exited with code 3/
      )
    )

    it.live("a getter that exits the worker while the result is cloned breaks the pool", () =>
      // CPython's ExitAtPickle raises SystemExit in the worker; here process.exit() is the worker's death.
      checkBroken(
        pool,
        { submit: (executor) => executor.submit(faults.returnExitingGetter, 1, 150) },
        /exited with code 1/
      )
    )

    it.live("a worker crashing with several MB of arguments in flight breaks map", () =>
      withPool(pool.make({ maxWorkers: 2 }), (executor) =>
        Effect.gen(function* () {
          // CPython's PIPE_MAX_SIZE: more than a pipe holds.
          const data = "a".repeat(4 * 1024 * 1024 + 1)
          const signal = pool.worker === "process" ? "SIGKILL" : undefined
          const error = yield* executor
            .map(faults.crashWithData, Array(10).fill(data), Array(10).fill(signal))
            .pipe(Stream.runCollect, Effect.flip, (effect) => within(effect, startDeadline, "map over crashing calls"))
          expect(error).toBeInstanceOf(BrokenExecutor)
          expect((error as BrokenExecutor).kind).toBe(pool.kind)
          expect((error as BrokenExecutor).reason).toMatch(
            pool.worker === "process" ? /killed by signal SIGKILL/ : /exited with code 1/
          )
        })
      )
    )

    it.live("arguments that cannot be cloned fail their own futures with SerializationError; submit succeeds", () =>
      withPool(pool.make({ maxWorkers: 1 }), (executor) =>
        Effect.gen(function* () {
          for (const [what, value, type] of unclonableArguments) {
            const future = yield* executor.submit(faults.identity, value)
            expectUnclonable(yield* awaitExit(future, startDeadline, `a call with ${what}`), "argument", type)
          }
          yield* expectHealthy(executor)
        })
      )
    )

    it.live("an argument that cannot be cloned fails only its own call among calls sent together", () =>
      withPool(pool.make({ maxWorkers: 2 }), (executor) =>
        Effect.gen(function* () {
          // Enough calls at once that they leave in batches.
          const values: Array<unknown> = range(12)
          values[5] = () => "not cloneable"
          const futures = yield* Effect.forEach(values, (value) => executor.submit(faults.identity, value))
          const exits = yield* Effect.forEach(futures, (future) => awaitExit(future, startDeadline, "a batch of calls"))
          exits.forEach((exit, i) => {
            if (i === 5) expectUnclonable(exit, "argument", /function/)
            else expect(exit).toStrictEqual(Exit.succeed(i))
          })
          yield* expectHealthy(executor)
        })
      )
    )

    it.live("an argument that cannot be cloned in a chunked map is named by its input and argument position", () =>
      withPool(pool.make({ maxWorkers: 1 }), (executor) =>
        Effect.gen(function* () {
          // Input 4's second argument; flattened over its chunk of three calls it would be "argument 4".
          const seconds: Array<unknown> = [1, 1, 1, 1, () => "not cloneable", 1]
          const exit = yield* within(
            Effect.exit(Stream.runCollect(executor.map(add, range(6), seconds as Array<number>, { chunksize: 3 }))),
            startDeadline,
            "a chunked map with an unclonable argument"
          )
          expectUnclonable(exit, "argument", /map input 4, argument 2: function/)
          yield* expectHealthy(executor)
        })
      )
    )

    it.live("a chunk whose failure cannot be cloned gives the results before it, then SerializationError", () =>
      withPool(pool.make({ maxWorkers: 1 }), (executor) =>
        Effect.gen(function* () {
          const seen: Array<unknown> = []
          const exit = yield* within(
            Effect.exit(
              Stream.runForEach(
                executor.map(faults.failUnclonably, [1, 2, 3], [false, false, true], { chunksize: 3 }),
                (n) => Effect.sync(() => seen.push(n))
              )
            ),
            startDeadline,
            "a chunk whose failure cannot be cloned"
          )
          expect(seen).toEqual([1, 2])
          expectUnclonable(exit, "result", /function/)
          yield* expectHealthy(executor)
        })
      )
    )

    it.live("a getter that throws while an argument is cloned fails that future with SerializationError", () =>
      // CPython's test_error_at_task_pickle (ErrorAtPickle).
      withPool(pool.make({ maxWorkers: 1 }), (executor) =>
        Effect.gen(function* () {
          const value = {
            get field(): never {
              throw new faults.FaultError("error at clone")
            }
          }
          const future = yield* executor.submit(faults.identity, value)
          expectUnclonable(
            yield* awaitExit(future, callDeadline, "an argument whose getter throws"),
            "argument",
            /argument 1/
          )
          yield* expectHealthy(executor)
        })
      )
    )

    it.live("results that cannot be cloned fail their own futures with SerializationError", () =>
      withPool(pool.make({ maxWorkers: 1 }), (executor) =>
        Effect.gen(function* () {
          const cases: ReadonlyArray<readonly [faults.Unclonable, RegExp]> = [
            ["function", /function callback/],
            ["instance", /callback: function/],
            ["symbol", /symbol result/]
          ]
          for (const [which, type] of cases) {
            const future = yield* executor.submit(faults.returnUnclonable, which)
            expectUnclonable(yield* awaitExit(future, startDeadline, "an unclonable result"), "result", type)
          }
          yield* expectHealthy(executor)
        })
      )
    )

    it.live("a getter that throws while the result is cloned fails that future with SerializationError", () =>
      // CPython's test_error_during_result_pickle_on_worker (ErrorAtPickle).
      withPool(pool.make({ maxWorkers: 1 }), (executor) =>
        Effect.gen(function* () {
          const future = yield* executor.submit(faults.returnUnclonable, "throwingGetter")
          expectUnclonable(yield* awaitExit(future, startDeadline, "a result whose getter throws"), "result", /result/)
          yield* expectHealthy(executor)
        })
      )
    )

    it.live("shutdown({ wait: true }) returns when a worker crashes after it was called", () =>
      // CPython's test_shutdown_deadlock.
      withPool(pool.make({ maxWorkers: 2 }), (executor) =>
        Effect.gen(function* () {
          const future = yield* executor.submit(faults.exitWith, 1, 100)
          yield* within(executor.shutdown({ wait: true }), startDeadline, "shutdown({ wait: true })")
          expectBroken(yield* awaitExit(future, breakDeadline, "the crashed call"), pool.kind, /exited with code 1/)
        })
      )
    )

    it.live("shutdown with wait returns when a worker dies after shutdown({ wait: false })", () =>
      withPool(pool.make({ maxWorkers: 2 }), (executor) =>
        Effect.gen(function* () {
          yield* startWorkers(executor, 2)
          const crashing = yield* executor.submit(faults.exitWith, 1, 200)
          const running = yield* executor.submit(faults.sleep, 60_000)
          yield* executor.shutdown({ wait: false })
          yield* within(executor.shutdown(), shutdownDeadline, "shutdown() after a crash")
          for (const future of [crashing, running]) {
            expectBroken(yield* awaitExit(future, breakDeadline, "a call of the crashed pool"), pool.kind, /code 1/)
          }
        })
      )
    )

    it.live(
      "a call that cannot be sent, submitted just before shutdown({ wait: false }), fails with SerializationError",
      () =>
        // CPython's test_shutdown_deadlock_pickle.
        withPool(pool.make({ maxWorkers: 2 }), (executor) =>
          Effect.gen(function* () {
            yield* expectHealthy(executor)
            const future = yield* executor.submit(faults.identity, Symbol("late"))
            yield* executor.shutdown({ wait: false })
            expectUnclonable(yield* awaitExit(future, callDeadline, "an unclonable call"), "argument", /symbol late/)
          })
        )
    )

    it.live("a worker dying with many calls queued fails every one of them with BrokenExecutor", () =>
      Effect.gen(function* () {
        const futures = yield* withPool(pool.make({ maxWorkers: 2 }), (executor) =>
          Effect.gen(function* () {
            yield* startWorkers(executor, 2)
            const crashing = yield* executor.submit(faults.exitWith, 1, 150)
            const queued = yield* Effect.forEach(range(200), () => executor.submit(faults.sleep, 60_000))
            yield* Effect.yieldNow
            const states = yield* Effect.forEach(queued, Future.state)
            expect(states).toContain("RUNNING")
            expect(states).toContain("PENDING")
            const exits = yield* Effect.forEach(
              [crashing, ...queued],
              (future) => awaitExit(future, breakDeadline, "the calls of a broken pool"),
              { concurrency: "unbounded" }
            )
            expect(exits.filter((exit) => failureOf(exit) instanceof BrokenExecutor).length).toBe(201)
            expectBroken(exits[0]!, pool.kind, /exited with code 1/)
            return [crashing, ...queued]
          })
        )
        const done = yield* Effect.forEach(futures, Future.done)
        expect(done.filter((isDone) => !isDone).length).toBe(0)
      })
    )

    it.live("shutdown with wait returns while a call is queued and another worker is idle", () =>
      withPool(pool.make({ maxWorkers: 2 }), (executor) =>
        Effect.gen(function* () {
          yield* startWorkers(executor, 2)
          const future = yield* executor.submit(faults.identity, 7)
          yield* within(executor.shutdown({ wait: true }), shutdownDeadline, "shutdown({ wait: true })")
          expect(yield* Future.result(future)).toBe(7)
        })
      )
    )

    it.live("a burst of 1000 calls through map all come back", () =>
      // CPython's test_gh105829_should_not_deadlock_if_wakeup_pipe_full.
      withPool(pool.make({ maxWorkers: 2 }), (executor) =>
        Effect.gen(function* () {
          const results = yield* executor
            .map(faults.identity, range(1000))
            .pipe(Stream.runCollect, (effect) => within(effect, startDeadline, "map over 1000 calls"))
          expect(results).toStrictEqual(range(1000))
        })
      )
    )
  })
}

describe("ProcessPoolExecutor only", () => {
  const pool = pools.find((p) => p.worker === "process")!

  it.live("SIGKILL of a busy worker, sent from outside, breaks the pool", () =>
    checkBroken(
      pool,
      {
        submit: (executor) => executor.submit(faults.sleep, 60_000),
        trigger: (workers) => process.kill(workers[0]!.pid, "SIGKILL")
      },
      /killed by signal SIGKILL/
    )
  )

  it.live("a task that SIGKILLs its own process breaks the pool", () =>
    checkBroken(
      pool,
      { submit: (executor) => executor.submit(faults.killSelf, "SIGKILL", 150) },
      /killed by signal SIGKILL/
    )
  )

  it.live("no worker process outlives the pool's scope", () =>
    Effect.gen(function* () {
      const workers = yield* withPool(ProcessPoolExecutor.make({ maxWorkers: 2 }), (executor) =>
        startWorkers(executor, 2)
      )
      expect(
        yield* survivors(
          workers.map((worker) => worker.pid),
          3_000
        )
      ).toStrictEqual([])
    })
  )

  for (const method of ["killWorkers", "terminateWorkers"] as const) {
    it.live(
      `${method}() stops busy workers: running futures break, pending ones are cancelled, no process is left`,
      () =>
        withPool(ProcessPoolExecutor.make({ maxWorkers: 2 }), (executor) =>
          Effect.gen(function* () {
            const workers = yield* startWorkers(executor, 2)
            const running = yield* Effect.forEach(range(2), () => executor.submit(faults.sleep, 60_000))
            const pending = yield* executor.submit(faults.sleep, 10)
            yield* Effect.yieldNow
            const states = yield* Effect.forEach([...running, pending], Future.state)
            expect(states).toStrictEqual(["RUNNING", "RUNNING", "PENDING"])
            yield* within(executor[method](), shutdownDeadline, `${method}()`)
            for (const future of running) {
              expectBroken(
                yield* awaitExit(future, breakDeadline, "a stopped call"),
                "ProcessPool",
                new RegExp(`${method}\\(\\)`)
              )
            }
            expect(yield* Future.cancelled(pending)).toBe(true)
            const later = yield* Effect.flip(executor.submit(faults.identity, 1))
            expect(later._tag).toBe("ExecutorShutdownError")
            expect(
              yield* survivors(
                workers.map((worker) => worker.pid),
                3_000
              )
            ).toStrictEqual([])
          })
        )
    )
  }

  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    it.live(`${signal} to a program run with NodeRuntime.runMain leaves no worker process behind`, () =>
      Effect.gen(function* () {
        const { child, report } = yield* startProgram
        expect(report.running).toStrictEqual([true, true])
        expect(report.pids.filter(isAlive)).toStrictEqual(report.pids)
        child.kill(signal)
        const end = yield* within(exited(child), shutdownDeadline, `the program's exit after ${signal}`)
        // runMain handled the signal: it interrupted the program and ran its finalizers.
        expect(end.signal).toBeNull()
        expect(yield* survivors(report.pids, 3_000)).toStrictEqual([])
      })
    )
  }

  it.live("the workers of a program killed with SIGKILL exit by themselves", () =>
    Effect.gen(function* () {
      const { child, report } = yield* startProgram
      expect(report.pids.filter(isAlive)).toStrictEqual(report.pids)
      child.kill("SIGKILL")
      yield* within(exited(child), shutdownDeadline, "the program's exit after SIGKILL")
      expect(yield* survivors(report.pids, 5_000)).toStrictEqual([])
    })
  )
})

describe("InterpreterPoolExecutor only", () => {
  const pool = pools.find((p) => p.worker === "thread")!

  it.live("a worker that runs out of memory breaks the pool", () =>
    checkBroken(
      {
        ...pool,
        make: (options) => InterpreterPoolExecutor.make({ ...options, resourceLimits: { maxOldGenerationSizeMb: 32 } })
      },
      { submit: (executor) => executor.submit(faults.exhaustMemory), immediate: true },
      /memory limit/
    )
  )
})
