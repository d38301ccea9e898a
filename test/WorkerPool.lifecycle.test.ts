/**
 * The worker pools' lifecycle options, beyond Python: `onWorkerDeath:
 * "replace"` (a dead worker fails only its call, with `WorkerDied`),
 * `terminateGrace` (a worker that does not stop is killed), `idleTimeout` and
 * `minWorkers` (idle shrink), `maxMemoryPerWorker` (retirement by memory).
 * Real threads and processes; every wait has a deadline, so a deadlock fails
 * its test, naming what hung, instead of hanging the run.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { closeSync, constants, openSync, writeSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "@effect/vitest"
import { Cause, type Duration, Effect, Exit, Fiber, Logger, Option, Scope } from "effect"
import {
  BrokenExecutor,
  type Executor,
  type ExecutorKind,
  Future,
  InterpreterPoolExecutor,
  ProcessPoolExecutor,
  type Task,
  WorkerDied
} from "../src/index.ts"
import { poolOf as internalPool } from "../src/internal/workerPool/executor.ts"
import { awaitExit, Deadlock, expectFailure, failureOf, killPool, within, withPoolUnder } from "./fixtures/deadlock.ts"
import * as faults from "./fixtures/faults.ts"
import * as lifecycle from "./fixtures/lifecycle.ts"
import { isAlive, survivors } from "./fixtures/processes.ts"
import * as tasks from "./fixtures/tasks.ts"
import * as timerModule from "./fixtures/timerModule.ts"
import { tempFile } from "./suites/workerPool.ts"

/** Starting workers on a loaded machine. */
const startDeadline = "20 seconds"
/** The test timeout of tests that start several generations of workers. */
const slow = 60_000
/** Workers started one after another in a crash loop, on a loaded machine. */
const loopDeadline = "25 seconds"
/** A dead worker's call fails within this. */
const deathDeadline = "5 seconds"
/** The scope's close, `shutdown`, `terminateWorkers()`. */
const shutdownDeadline = "10 seconds"
/** A short `terminateGrace` for the tests. */
const grace = "300 millis"
/** Stopping a stuck worker within this shows the short `terminateGrace` was used (the default is 5 seconds). */
const graceDeadline = "4 seconds"

/** The options every pool case takes. */
interface LifecycleOptions {
  readonly maxWorkers: number
  readonly onWorkerDeath?: "break" | "replace"
  readonly terminateGrace?: Duration.Input
  readonly interruptGrace?: Duration.Input
  readonly idleTimeout?: Duration.Input
  readonly minWorkers?: number
  readonly maxMemoryPerWorker?: number
  readonly maxTasksPerChild?: number
  readonly initializer?: Task.Task<any, unknown, unknown>
}

interface PoolCase {
  readonly name: string
  readonly kind: "InterpreterPool" | "ProcessPool"
  readonly worker: "thread" | "process"
  readonly make: (options: LifecycleOptions) => Effect.Effect<Executor.Service, unknown, Scope.Scope>
  /** The id `WorkerDied.workerId` gives: thread id or process id. */
  readonly idOf: (where: lifecycle.WorkerId) => number
}

const pools: ReadonlyArray<PoolCase> = [
  {
    name: "InterpreterPoolExecutor",
    kind: "InterpreterPool",
    worker: "thread",
    make: (options) => InterpreterPoolExecutor.make(options),
    idOf: (where) => where.threadId
  },
  {
    name: "ProcessPoolExecutor",
    kind: "ProcessPool",
    worker: "process",
    make: (options) => ProcessPoolExecutor.make(options),
    idOf: (where) => where.pid
  }
]

const result = <A, E>(future: Future.Future<A, E>, duration: Duration.Input, what: string) =>
  within(Future.result(future), duration, what)

/** The pool inside an executor, as the fault tests reach it. */
interface PoolInside {
  readonly workers: ReadonlySet<{
    readonly retiring: boolean
    readonly items: { readonly size: number }
    readonly handle: { readonly id: number }
  }>
}

const poolOf = (executor: Executor.Service): PoolInside => internalPool(executor) as unknown as PoolInside

/** Workers the pool holds that take calls (not retiring, not stopping). */
const liveWorkers = (executor: Executor.Service): number => {
  let n = 0
  for (const worker of poolOf(executor).workers) if (!worker.retiring) n++
  return n
}

/** Workers the pool holds, stopping ones included. */
const allWorkers = (executor: Executor.Service): number => poolOf(executor).workers.size

/** The thread or process ids of the workers the pool holds, stopping ones included. */
const workerIds = (executor: Executor.Service): ReadonlyArray<number> =>
  [...poolOf(executor).workers].map((worker) => worker.handle.id)

/**
 * A fresh pool in its own scope around `body`; any failure of the body kills the workers first (a stuck one would
 * hold up the close), and the scope's close has a deadline, past which the workers are killed.
 */
const withPool = withPoolUnder({ shutdownDeadline, killFirstOn: "failure" })

/**
 * A fresh pool in a scope of its own around `body`, which gets `interrupt`: it closes the scope by
 * interruption, as Ctrl-C under `NodeRuntime.runMain` does, and says how long the close took (a
 * `Deadlock` past `deadline`, the workers then killed). Whatever is left is killed when the body ends.
 */
const withInterruptedScope = <S extends Executor.Service, A, E, ME>(
  make: Effect.Effect<S, ME, Scope.Scope>,
  body: (executor: S, interrupt: (deadline: Duration.Input) => Effect.Effect<number, Deadlock>) => Effect.Effect<A, E>
): Effect.Effect<A, E | ME> =>
  Effect.gen(function* () {
    const scope = yield* Scope.make()
    const executor = yield* Scope.provide(scope)(make)
    const interrupt = (deadline: Duration.Input) =>
      Effect.gen(function* () {
        const started = Date.now()
        const closing = yield* Effect.forkDetach(Scope.close(scope, Exit.interrupt()))
        if (Option.isNone(yield* Effect.timeoutOption(Fiber.await(closing), deadline))) {
          yield* killPool(executor)
          return yield* new Deadlock({
            message: `deadlock: closing the pool's scope by interruption did not return within ${String(deadline)}`
          })
        }
        return Date.now() - started
      })
    return yield* body(executor, interrupt).pipe(
      Effect.ensuring(Effect.andThen(killPool(executor), Scope.close(scope, Exit.void)))
    )
  })

/** `make` with its log lines (level and message) kept in `lines`. */
const logsOf = <A, E, R>(make: Effect.Effect<A, E, R>, lines: Array<string>): Effect.Effect<A, E, R> =>
  Effect.provideService(
    make,
    Logger.CurrentLoggers,
    new Set([
      Logger.make((options) => {
        const message = Array.isArray(options.message) ? options.message : [options.message]
        lines.push([options.logLevel, ...message.map(String)].join(" "))
      })
    ])
  )

/** Starts `n` workers (calls sent at once go to different workers) and says where each runs. */
const startWorkers = (executor: Executor.Service, n: number, ms = 100) =>
  Effect.gen(function* () {
    const futures = yield* Effect.forEach(Array.from({ length: n }), () => executor.submit(faults.workerId, ms))
    return yield* Effect.forEach(futures, (future) => result(future, startDeadline, "starting workers"))
  })

/** The future failed with `WorkerDied` of this pool. */
const expectDied = (exit: Exit.Exit<unknown, unknown>, kind: ExecutorKind): WorkerDied => {
  const died = expectFailure(exit, WorkerDied, "WorkerDied")
  expect(died.kind).toBe(kind)
  expect(died.message).toMatch(/died/)
  expect(died.message).toContain(`${died.workerId}`)
  return died
}

/** Polls `condition` every 50 ms; a `Deadlock` naming `what` past `duration`. */
const eventually = (condition: () => boolean, duration: Duration.Input, what: string) =>
  within(
    Effect.gen(function* () {
      while (!condition()) yield* Effect.sleep(50)
    }),
    duration,
    what
  )

/** The pool still runs calls. */
const expectHealthy = (executor: Executor.Service) =>
  Effect.gen(function* () {
    const future = yield* executor.submit(faults.identity, 42)
    expect(yield* result(future, startDeadline, "a call on a healthy pool")).toBe(42)
  })

const range = (n: number): Array<number> => Array.from({ length: n }, (_, i) => i)

/** Bad values of the lifecycle options, and how the error starts. */
const badOptions: ReadonlyArray<readonly [Partial<LifecycleOptions> | Record<string, unknown>, RegExp]> = [
  [{ onWorkerDeath: "restart" }, /^onWorkerDeath must be "break" or "replace", got "restart"/],
  [{ terminateGrace: -1 }, /^terminateGrace must be /],
  [{ terminateGrace: "soon" }, /^terminateGrace must be a Duration.Input/],
  [{ idleTimeout: 0 }, /^idleTimeout must be greater than zero, got 0/],
  [{ idleTimeout: "whenever" }, /^idleTimeout must be a Duration.Input/],
  [{ maxWorkers: 2, minWorkers: 3 }, /^minWorkers must be a whole number from 0 to maxWorkers \(2\), got 3/],
  [{ minWorkers: -1 }, /^minWorkers must be a whole number from 0 to maxWorkers \(\d+\), got -1/],
  [{ minWorkers: 1.5 }, /^minWorkers must be a whole number .*, got 1.5/],
  [{ maxMemoryPerWorker: 0 }, /^maxMemoryPerWorker must be a whole number greater than 0, got 0/],
  [{ maxMemoryPerWorker: "1GB" }, /^maxMemoryPerWorker must be a whole number greater than 0, got "1GB"/]
]

for (const pool of pools) {
  describe(pool.name, () => {
    describe("options", () => {
      for (const [options, message] of badOptions) {
        it.effect(`fails make with IllegalArgumentError for ${JSON.stringify(options)}`, () =>
          Effect.gen(function* () {
            const error = yield* Effect.flip(
              Effect.scoped(pool.make({ maxWorkers: 4, ...options } as LifecycleOptions))
            )
            expect(Cause.isIllegalArgumentError(error)).toBe(true)
            // Named by the pool, then the option's own message.
            const text = (error as Error).message
            expect(text.startsWith(`${pool.name}: `), text).toBe(true)
            expect(text.slice(pool.name.length + 2)).toMatch(message)
          })
        )
      }
    })

    describe('onWorkerDeath: "replace"', () => {
      it.live(
        "a worker that exits under load fails only the call it was running, with WorkerDied",
        () =>
          withPool(pool.make({ maxWorkers: 2, onWorkerDeath: "replace" }), (executor) =>
            Effect.gen(function* () {
              const before = yield* Effect.forEach(range(30), () => executor.submit(faults.workerId, 10))
              const crashing = yield* executor.submit(faults.exitWith, 3, 30)
              const after = yield* Effect.forEach(range(30), () => executor.submit(faults.workerId, 10))
              const died = expectDied(yield* awaitExit(crashing, startDeadline, "the crashing call"), pool.kind)
              expect(died.exitCode).toBe(3)
              expect(died.signal).toBeNull()
              expect(died.resourceLimit).toBeUndefined()
              expect(died.message).toMatch(/exited with code 3/)
              const ran = yield* Effect.forEach([...before, ...after], (future) =>
                result(future, startDeadline, "the other calls")
              )
              expect(ran.length).toBe(60)
              // A worker runs its calls in the order sent: none of those after the crash ran on the dead one.
              expect(ran.slice(30).map(pool.idOf)).not.toContain(died.workerId)
              yield* expectHealthy(executor)
            })
          ),
        slow
      )

      it.live(
        "the calls queued behind the crashed one in its worker run on another worker",
        () =>
          withPool(pool.make({ maxWorkers: 1, onWorkerDeath: "replace" }), (executor) =>
            Effect.gen(function* () {
              yield* startWorkers(executor, 1, 0)
              // The pool sends tiny calls in batches once it has measured them; on a loaded machine it
              // may not have yet, so say they are tiny (the fault tests reach inside the pool too).
              ;(poolOf(executor) as unknown as { balancer: { millisPerCall: number } }).balancer.millisPerCall = 0.001
              const crashing = yield* executor.submit(faults.exitWith, 1, 200)
              const behind = yield* Effect.forEach(range(20), () => executor.submit(faults.workerId, 0))
              yield* Effect.yieldNow
              const held = Math.max(...[...poolOf(executor).workers].map((worker) => worker.items.size))
              expect(held, "calls the crashing worker holds").toBeGreaterThan(1)
              const died = expectDied(yield* awaitExit(crashing, startDeadline, "the crashing call"), pool.kind)
              expect(died.exitCode).toBe(1)
              const ran = yield* Effect.forEach(behind, (future) => result(future, startDeadline, "the calls behind"))
              expect(ran.map(pool.idOf).filter((id) => id === died.workerId)).toStrictEqual([])
            })
          ),
        slow
      )

      it.live(
        "a crash loop: every call kills its worker, each fails with WorkerDied, nothing hangs",
        () =>
          withPool(pool.make({ maxWorkers: 2, onWorkerDeath: "replace" }), (executor) =>
            Effect.gen(function* () {
              // Two rounds of two workers, each started and killed by its call.
              const crashing = yield* Effect.forEach(range(4), () => executor.submit(faults.exitWith, 1, 0))
              const exits = yield* Effect.forEach(
                crashing,
                (future) => awaitExit(future, loopDeadline, "the calls of a crash loop"),
                { concurrency: "unbounded" }
              )
              const workerIds = exits.map((exit) => expectDied(exit, pool.kind).workerId)
              expect(new Set(workerIds).size).toBe(4)
              yield* expectHealthy(executor)
            })
          ),
        slow
      )

      it.live(
        "an uncaught error in a worker fails its call with WorkerDied, the error as cause",
        () =>
          withPool(pool.make({ maxWorkers: 2, onWorkerDeath: "replace" }), (executor) =>
            Effect.gen(function* () {
              const other = yield* executor.submit(faults.sleep, 500)
              const crashing = yield* executor.submit(faults.throwInEventLoop, "uncaught in a timer", 100)
              const died = expectDied(yield* awaitExit(crashing, startDeadline, "the crashing call"), pool.kind)
              expect(died.exitCode).toBe(1)
              expect(died.message).toMatch(/uncaught exception: FaultError: uncaught in a timer/)
              expect(died.cause).toMatchObject({ name: "FaultError", message: "uncaught in a timer" })
              expect(yield* result(other, startDeadline, "the call on the other worker")).toBe(500)
              yield* expectHealthy(executor)
            })
          ),
        slow
      )

      it.live(
        "a failing initializer still breaks the pool",
        () =>
          withPool(
            pool.make({ maxWorkers: 1, onWorkerDeath: "replace", initializer: lifecycle.failingInit }),
            (executor) =>
              Effect.gen(function* () {
                const future = yield* executor.submit(faults.identity, 1)
                const error = failureOf(yield* awaitExit(future, startDeadline, "a call after a failing initializer"))
                expect(error).toBeInstanceOf(BrokenExecutor)
                expect((error as BrokenExecutor).reason).toMatch(/initializer failed/)
              })
          ),
        slow
      )

      it.live(
        "shutdown({ wait: true }) returns after a death, with the other calls done",
        () =>
          withPool(pool.make({ maxWorkers: 2, onWorkerDeath: "replace" }), (executor) =>
            Effect.gen(function* () {
              yield* startWorkers(executor, 2)
              const crashing = yield* executor.submit(faults.exitWith, 1, 100)
              const others = yield* Effect.forEach(range(6), () => executor.submit(faults.sleep, 50))
              // A fresh worker starts for the calls the dead one leaves: on a loaded machine, that takes a while.
              yield* within(executor.shutdown({ wait: true }), startDeadline, "shutdown({ wait: true })")
              expectDied(yield* awaitExit(crashing, deathDeadline, "the crashed call"), pool.kind)
              for (const future of others) expect(yield* result(future, deathDeadline, "the other calls")).toBe(50)
            })
          ),
        slow
      )
    })

    describe("terminateGrace", () => {
      it.live(
        "a worker whose task module left a timer running exits when asked, without waiting for terminateGrace",
        () =>
          withPool(pool.make({ maxWorkers: 1 }), (executor) =>
            Effect.gen(function* () {
              const where = yield* result(yield* executor.submit(timerModule.tickCount), startDeadline, "the call")
              // terminateGrace is 5 seconds by default: a return well before shows the worker was not killed.
              yield* within(executor.shutdown({ wait: true }), "3 seconds", "shutdown of a worker with a timer left")
              expect(allWorkers(executor)).toBe(0)
              if (pool.worker === "process") expect(yield* survivors([where.pid], 3_000)).toStrictEqual([])
            })
          ),
        slow
      )

      it.live(
        "a worker whose event loop is stuck after its call is killed terminateGrace after shutdown",
        () =>
          withPool(pool.make({ maxWorkers: 1, terminateGrace: grace }), (executor) =>
            Effect.gen(function* () {
              const where = yield* result(yield* executor.submit(lifecycle.lingerBusy, 0), startDeadline, "the call")
              yield* executor.shutdown({ wait: false })
              // Waiting for shutdown waits for the worker: it returns once the worker is killed.
              yield* within(
                executor.shutdown({ wait: true }),
                graceDeadline,
                "shutdown of a pool whose worker is stuck"
              )
              if (pool.worker === "process") expect(yield* survivors([where.pid], 3_000)).toStrictEqual([])
            })
          ),
        slow
      )

      it.live(
        "a worker that does not exit when asked is named in a log line while the pool waits, and when killed",
        () => {
          const lines: Array<string> = []
          return withPool(logsOf(pool.make({ maxWorkers: 1, terminateGrace: "2 seconds" }), lines), (executor) =>
            Effect.gen(function* () {
              const where = yield* result(yield* executor.submit(lifecycle.lingerBusy, 0), startDeadline, "the call")
              const id = pool.idOf(where)
              yield* within(executor.shutdown({ wait: true }), "8 seconds", "shutdown of a pool whose worker is stuck")
              const waiting = lines.filter((line) => line.includes(`waiting for ${pool.worker} ${id} to exit`))
              expect(waiting, lines.join("\n")).toHaveLength(1)
              expect(waiting[0]).toMatch(/^Warn /)
              expect(waiting[0]).toMatch(/terminateGrace \(2000 ms\)/)
              const killed = lines.filter((line) => line.includes(`killed ${pool.worker} ${id}`))
              expect(killed, lines.join("\n")).toHaveLength(1)
              expect(killed[0]).toMatch(/^Warn .*did not exit within terminateGrace/)
            })
          )
        },
        slow
      )

      it.live(
        "a worker retired by maxTasksPerChild that does not stop is killed after terminateGrace",
        () =>
          withPool(pool.make({ maxWorkers: 1, maxTasksPerChild: 1, terminateGrace: grace }), (executor) =>
            Effect.gen(function* () {
              const first = yield* result(
                yield* executor.submit(lifecycle.lingerBusy, 0),
                startDeadline,
                "the lingering call"
              )
              const second = yield* result(yield* executor.submit(faults.workerId, 0), startDeadline, "the next call")
              expect(pool.idOf(second)).not.toBe(pool.idOf(first))
              yield* eventually(
                () => !workerIds(executor).includes(pool.idOf(first)),
                graceDeadline,
                "the retired worker's exit"
              )
              if (pool.worker === "process") expect(yield* survivors([first.pid], 3_000)).toStrictEqual([])
            })
          ),
        slow
      )
    })

    describe("closing the scope by interruption", () => {
      it.live(
        "interrupts a running Effect task in its worker first: its finalizers run, the future ends cancelled",
        () =>
          Effect.gen(function* () {
            const { file, lines } = yield* tempFile("effect-futures-close-")
            // A grace far longer than the deadline: the close returns once the task has stopped, not after it.
            const make = pool.make({ maxWorkers: 1, interruptGrace: "60 seconds" })
            yield* withInterruptedScope(make, (executor, interrupt) =>
              Effect.gen(function* () {
                const future = yield* executor.submit(lifecycle.awaitInterrupt, file)
                yield* eventually(() => lines().length > 0, startDeadline, "the task starting")
                yield* interrupt(shutdownDeadline)
                expect(lines()).toStrictEqual(["started", "finalized"])
                expect(yield* Future.state(future)).toBe("CANCELLED_AND_NOTIFIED")
                expect(allWorkers(executor)).toBe(0)
              })
            )
          }),
        slow
      )

      it.live(
        "kills a worker whose task does not stop within interruptGrace, and returns",
        () =>
          withInterruptedScope(pool.make({ maxWorkers: 1, interruptGrace: grace }), (executor, interrupt) =>
            Effect.gen(function* () {
              const where = yield* result(yield* executor.submit(faults.workerId, 0), startDeadline, "a call")
              const future = yield* executor.submit(tasks.busyLoop, 60_000)
              yield* eventually(() => Effect.runSync(Future.running(future)), startDeadline, "the loop starting")
              yield* interrupt(graceDeadline)
              expect(yield* Future.state(future)).toBe("CANCELLED_AND_NOTIFIED")
              if (pool.worker === "process") expect(yield* survivors([where.pid], 3_000)).toStrictEqual([])
            })
          ),
        slow
      )
    })

    describe("idleTimeout and minWorkers", () => {
      it.live(
        "workers idle for idleTimeout exit, and start again on demand",
        () =>
          withPool(pool.make({ maxWorkers: 2, idleTimeout: "200 millis" }), (executor) =>
            Effect.gen(function* () {
              const started = yield* startWorkers(executor, 2)
              const ids = started.map(pool.idOf)
              expect(new Set(ids).size).toBe(2)
              yield* eventually(() => allWorkers(executor) === 0, startDeadline, "idle workers exiting")
              if (pool.worker === "process") expect(yield* survivors(ids, 3_000)).toStrictEqual([])
              const again = yield* result(yield* executor.submit(faults.workerId, 0), startDeadline, "a call after")
              expect(ids).not.toContain(pool.idOf(again))
            })
          ),
        slow
      )

      it.live(
        "minWorkers start with the pool and stay through idle shrink",
        () =>
          withPool(pool.make({ maxWorkers: 3, minWorkers: 1, idleTimeout: "150 millis" }), (executor) =>
            Effect.gen(function* () {
              expect(liveWorkers(executor)).toBe(1)
              const started = yield* startWorkers(executor, 3, 300)
              expect(new Set(started.map(pool.idOf)).size).toBe(3)
              yield* eventually(() => allWorkers(executor) === 1, startDeadline, "idle workers exiting down to 1")
              yield* Effect.sleep(600)
              expect(allWorkers(executor)).toBe(1)
              if (pool.worker === "process") {
                const pids = started.map((where) => where.pid)
                const alive = yield* survivors(pids, 3_000)
                expect(alive.length).toBe(1)
                // The one left runs the next call.
                const next = yield* result(yield* executor.submit(faults.workerId, 0), startDeadline, "a call after")
                expect(next.pid).toBe(alive[0])
              }
            })
          ),
        slow
      )
    })

    describe("maxMemoryPerWorker", () => {
      // Above what a fresh worker uses: about 110 MiB RSS for a process, 30 MiB of heap for a thread.
      const limit = pool.worker === "process" ? 160 : 64

      it.live(
        "a worker over the limit is retired after its call; the next call runs on a fresh worker",
        () =>
          withPool(pool.make({ maxWorkers: 1, maxMemoryPerWorker: limit }), (executor) =>
            Effect.gen(function* () {
              const first = yield* result(yield* executor.submit(lifecycle.holdMemory, 0), startDeadline, "a call")
              expect(first.memoryMb, "a fresh worker's memory, in MiB").toBeLessThan(limit - 8)
              // Just enough to go over: memory is slow to fill on a loaded machine.
              const big = Math.ceil(limit - first.memoryMb) + 24
              const hog = yield* result(yield* executor.submit(lifecycle.holdMemory, big), startDeadline, "the hog")
              expect(hog.memoryMb).toBeGreaterThan(limit)
              expect(pool.idOf(hog)).toBe(pool.idOf(first))
              const next = yield* result(yield* executor.submit(lifecycle.holdMemory, 0), startDeadline, "a call after")
              expect(pool.idOf(next)).not.toBe(pool.idOf(first))
              if (pool.worker === "process") expect(yield* survivors([first.pid], 5_000)).toStrictEqual([])
            })
          ),
        slow
      )

      it.live(
        "a worker under the limit keeps running calls",
        () =>
          withPool(pool.make({ maxWorkers: 1, maxMemoryPerWorker: 2048 }), (executor) =>
            Effect.gen(function* () {
              const ids: Array<number> = []
              for (const megabytes of [0, 16, 0]) {
                const where = yield* result(
                  yield* executor.submit(lifecycle.holdMemory, megabytes),
                  startDeadline,
                  "a call"
                )
                ids.push(pool.idOf(where))
              }
              expect(new Set(ids).size).toBe(1)
            })
          ),
        slow
      )
    })
  })
}

describe("ProcessPoolExecutor only", () => {
  it.live(
    'SIGKILL of a busy worker under load, with onWorkerDeath: "replace", fails only its call',
    () =>
      withPool(ProcessPoolExecutor.make({ maxWorkers: 2, onWorkerDeath: "replace" }), (executor) =>
        Effect.gen(function* () {
          const futures = yield* Effect.forEach(range(100), () => executor.submit(faults.workerId, 20))
          const victim = (yield* result(futures[0]!, startDeadline, "the first call")).pid
          process.kill(victim, "SIGKILL")
          const exits = yield* Effect.forEach(futures, (future) => awaitExit(future, startDeadline, "the calls"))
          const died = exits.filter((exit) => Exit.isFailure(exit)).map((exit) => expectDied(exit, "ProcessPool"))
          expect(died.length).toBe(1)
          expect(died[0]!.workerId).toBe(victim)
          expect(died[0]!.signal).toBe("SIGKILL")
          expect(died[0]!.exitCode).toBeNull()
          expect(died[0]!.message).toMatch(/killed by signal SIGKILL/)
          expect(yield* survivors([victim], 3_000)).toStrictEqual([])
          yield* expectHealthy(executor)
        })
      ),
    slow
  )

  it.live(
    "terminateWorkers() follows SIGTERM with SIGKILL after terminateGrace",
    () =>
      withPool(ProcessPoolExecutor.make({ maxWorkers: 1, terminateGrace: grace }), (executor) =>
        Effect.gen(function* () {
          const where = yield* result(yield* executor.submit(lifecycle.ignoreSigterm), startDeadline, "a call")
          const running = yield* executor.submit(faults.sleep, 60_000)
          yield* eventually(() => Effect.runSync(Future.running(running)), startDeadline, "the long call starting")
          yield* within(executor.terminateWorkers(), graceDeadline, "terminateWorkers() on a worker ignoring SIGTERM")
          expect(failureOf(yield* awaitExit(running, deathDeadline, "the stopped call"))).toBeInstanceOf(BrokenExecutor)
          expect(yield* survivors([where.pid], 3_000)).toStrictEqual([])
        })
      ),
    slow
  )
})

/** The program whose pool thread blocks in a system call as its scope closes by interruption. */
const blockedThreadProgram = fileURLToPath(new URL("./fixtures/blockedThreadProgram.ts", import.meta.url))

/** What `blockedThreadProgram.ts` prints once its scope has closed. */
interface BlockedThreadReport {
  readonly threadId: number
  readonly closeMillis: number
  readonly warnings: ReadonlyArray<string>
}

/** The first line the child prints; fails if it exits first. */
const firstLine = (child: ChildProcess) =>
  Effect.callback<string, Error>((resume) => {
    let stdout = ""
    let stderr = ""
    child.stderr?.on("data", (chunk) => {
      stderr += chunk
    })
    child.stdout?.on("data", (chunk) => {
      stdout += chunk
      const end = stdout.indexOf("\n")
      if (end >= 0) resume(Effect.succeed(stdout.slice(0, end)))
    })
    child.once("exit", (code, signal) =>
      resume(Effect.fail(new Error(`the program exited (${code ?? signal}) before its report: ${stderr}`)))
    )
  })

/** The child's exit code and signal, once it has exited. */
const exitOf = (child: ChildProcess) =>
  Effect.callback<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>((resume) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resume(Effect.succeed({ code: child.exitCode, signal: child.signalCode }))
      return
    }
    child.once("exit", (code, signal) => resume(Effect.succeed({ code, signal })))
  })

/**
 * Writes to the FIFO its reader is blocked on, which ends the read. Opened without blocking, so a
 * reader that is not there fails this (ENXIO, tried again until `deadline`) instead of hanging the test.
 */
const releaseFifo = (fifo: string, deadline: Duration.Input) =>
  within(
    Effect.gen(function* () {
      for (;;) {
        const fd = yield* Effect.sync(() => {
          try {
            return openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK)
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code === "ENXIO") return undefined
            throw error
          }
        })
        if (fd !== undefined) {
          writeSync(fd, "released")
          closeSync(fd)
          return
        }
        yield* Effect.sleep(20)
      }
    }),
    deadline,
    "opening the FIFO while its reader waits"
  )

describe("InterpreterPoolExecutor only", () => {
  it.live(
    "a thread blocked in a system call is abandoned when the scope closes by interruption; the process exits once the call returns",
    () =>
      Effect.gen(function* () {
        const { file } = yield* tempFile("effect-futures-blocked-")
        const fifo = join(dirname(file), "fifo")
        execFileSync("mkfifo", [fifo])
        const child = spawn(process.execPath, [blockedThreadProgram, fifo, file], {
          stdio: ["ignore", "pipe", "pipe"]
        })
        yield* Effect.addFinalizer(() =>
          Effect.sync(() => {
            if (child.pid !== undefined && isAlive(child.pid)) child.kill("SIGKILL")
          })
        )
        // The read never returns by itself: without abandonment the close, and so the report, never comes.
        const line = yield* within(firstLine(child), loopDeadline, "the program's close by interruption")
        const report = JSON.parse(line) as BlockedThreadReport
        // interruptGrace (200 ms), then a second for the killed thread to end.
        expect(report.closeMillis).toBeLessThan(4_000)
        const abandoned = report.warnings.filter((w) => w.startsWith(`abandoned thread ${report.threadId}:`))
        expect(abandoned, report.warnings.join("\n")).toHaveLength(1)
        expect(abandoned[0]).toContain('its last call was task "blockOnFifo"')
        // Node cannot end the thread, and the process waits for it.
        yield* Effect.sleep(500)
        expect(child.exitCode).toBeNull()
        yield* releaseFifo(fifo, startDeadline)
        expect(
          yield* within(exitOf(child), shutdownDeadline, "the program's exit once the read returned")
        ).toStrictEqual({ code: 0, signal: null })
      }),
    slow
  )

  it.live(
    'a worker out of memory, with onWorkerDeath: "replace", fails its call with WorkerDied naming the limit',
    () =>
      withPool(
        InterpreterPoolExecutor.make({
          maxWorkers: 1,
          onWorkerDeath: "replace",
          resourceLimits: { maxOldGenerationSizeMb: 32 }
        }),
        (executor) =>
          Effect.gen(function* () {
            const future = yield* executor.submit(faults.exhaustMemory)
            const died = expectDied(
              yield* awaitExit(future, startDeadline, "the call out of memory"),
              "InterpreterPool"
            )
            expect(died.resourceLimit).toBe("maxOldGenerationSizeMb")
            expect(died.message).toMatch(/maxOldGenerationSizeMb/)
            yield* expectHealthy(executor)
          })
      ),
    slow
  )

  it.live(
    "maxMemoryPerWorker sets maxOldGenerationSizeMb as a backstop unless it is given",
    () =>
      Effect.gen(function* () {
        const limitsWith = (options: InterpreterPoolExecutor.Options) =>
          withPool(InterpreterPoolExecutor.make({ maxWorkers: 1, ...options }), (executor) =>
            Effect.flatMap(executor.submit(lifecycle.resourceLimits), (future) =>
              result(future, startDeadline, "reading the resource limits")
            )
          )
        expect((yield* limitsWith({ maxMemoryPerWorker: 100 })).maxOldGenerationSizeMb).toBe(356)
        expect((yield* limitsWith({ maxMemoryPerWorker: 400 })).maxOldGenerationSizeMb).toBe(800)
        expect(
          (yield* limitsWith({ maxMemoryPerWorker: 100, resourceLimits: { maxOldGenerationSizeMb: 150 } }))
            .maxOldGenerationSizeMb
        ).toBe(150)
      }),
    slow
  )
})
