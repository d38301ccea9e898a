/**
 * The wire between a worker pool and its workers: messages of foreign shapes
 * on either side. Real threads and processes; every wait has a deadline, so a
 * deadlock fails its test, naming what hung, instead of hanging the run.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit, type Scope } from "effect"
import {
  BrokenExecutor,
  type Executor,
  Future,
  InterpreterPoolExecutor,
  ProcessPoolExecutor,
  SerializationError,
  WorkerDied
} from "../src/index.ts"
import { awaitExit, expectFailure, failureOf, within, withPoolUnder } from "./fixtures/deadlock.ts"
import * as faults from "./fixtures/faults.ts"
import { isAlive, survivors } from "./fixtures/processes.ts"
import * as wire from "./fixtures/wire.ts"
import { tempFile } from "./suites/workerPool.ts"

/** Starting workers on a loaded machine. */
const startDeadline = "15 seconds"
/** A healthy call on a started pool. */
const callDeadline = "5 seconds"
/** `shutdown`, the scope's close. */
const shutdownDeadline = "5 seconds"

interface PoolCase {
  readonly name: string
  readonly worker: "thread" | "process"
  readonly make: (options: {
    readonly maxWorkers: number
    readonly onWorkerDeath?: "break" | "replace"
  }) => Effect.Effect<Executor.Service, unknown, Scope.Scope>
}

const pools: ReadonlyArray<PoolCase> = [
  { name: "InterpreterPoolExecutor", worker: "thread", make: (options) => InterpreterPoolExecutor.make(options) },
  { name: "ProcessPoolExecutor", worker: "process", make: (options) => ProcessPoolExecutor.make(options) }
]

const withPool = withPoolUnder({ shutdownDeadline, killFirstOn: "deadlock" })

/** The pool still runs calls. */
const expectHealthy = (executor: Executor.Service) =>
  Effect.gen(function* () {
    const future = yield* executor.submit(faults.identity, 42)
    expect(yield* within(Future.result(future), callDeadline, "a call on a healthy pool")).toBe(42)
  })

const range = (n: number): Array<number> => Array.from({ length: n }, (_, i) => i)

/** Runs enough tiny calls that the pool knows a call's cost, and sends the next ones in batches. */
const warmUp = (executor: Executor.Service) =>
  Effect.gen(function* () {
    for (let round = 0; round < 4; round++) {
      const futures = yield* Effect.forEach(range(16), (i) => executor.submit(faults.identity, i))
      yield* Effect.forEach(futures, (future) => within(Future.result(future), startDeadline, "warming up the pool"))
    }
  })

/** The defect a failed exit died with. */
const defectOf = (exit: Exit.Exit<unknown, unknown>): any => {
  expect(
    Exit.hasDies(exit),
    `expected a defect, got ${Exit.isFailure(exit) ? Cause.pretty(exit.cause) : "a success"}`
  ).toBe(true)
  return Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined
}

for (const pool of pools) {
  describe(pool.name, () => {
    it.live("messages of foreign shapes from a task are ignored: its call succeeds, the pool carries on", () =>
      withPool(pool.make({ maxWorkers: 1 }), (executor) =>
        Effect.gen(function* () {
          const future = yield* executor.submit(wire.sendForeign, 7)
          expect(yield* awaitExit(future, startDeadline, "a call sending foreign messages")).toStrictEqual(
            Exit.succeed(7)
          )
          yield* expectHealthy(executor)
        })
      )
    )

    it.live("messages of foreign shapes reaching a worker are ignored: the call succeeds, the pool carries on", () =>
      withPool(pool.make({ maxWorkers: 1 }), (executor) =>
        Effect.gen(function* () {
          const future = yield* executor.submit(wire.receiveForeign, 8)
          expect(yield* awaitExit(future, startDeadline, "a call receiving foreign messages")).toStrictEqual(
            Exit.succeed(8)
          )
          yield* expectHealthy(executor)
        })
      )
    )

    it.live(
      "a result that cannot be cloned fails only its own call; the transferred results beside it arrive whole",
      () =>
        withPool(pool.make({ maxWorkers: 1 }), (executor) =>
          Effect.gen(function* () {
            yield* warmUp(executor)
            const bad = 5
            const size = 1024
            // Submitted at once to a warm worker: they go in one batch, and their replies come back in one.
            const futures = yield* Effect.forEach(range(16), (i) =>
              executor.submit(wire.transferUnlessBad, i, bad, size)
            )
            const exits = yield* Effect.forEach(futures, (future) =>
              awaitExit(future, callDeadline, "calls returning transferred buffers")
            )
            exits.forEach((exit, i) => {
              if (i === bad) {
                const error = expectFailure(exit, SerializationError, "SerializationError")
                expect(error.direction).toBe("result")
                expect(error.message).toMatch(/function/)
              } else {
                expect(exit, `call ${i}`).toStrictEqual(Exit.succeed(new Uint8Array(size).fill(i)))
              }
            })
            yield* expectHealthy(executor)
          })
        )
    )

    it.live("calls sent together that share an argument each get their own copy of it", () =>
      withPool(pool.make({ maxWorkers: 1 }), (executor) =>
        Effect.gen(function* () {
          yield* warmUp(executor)
          const calls = 50
          const box = { n: 7 }
          const data = new Float64Array(4).fill(3)
          // Submitted at once to a warm worker: they go in batches, every call with the same objects.
          const same = yield* Effect.forEach(range(calls), () => executor.submit(wire.bump, box))
          const inner = yield* Effect.forEach(range(calls), () => executor.submit(wire.bumpInner, { inner: box }))
          const array = yield* Effect.forEach(range(calls), () => executor.submit(wire.bumpFirst, data))
          const twice = yield* Effect.forEach(range(calls), () => executor.submit(wire.sameObject, box, box))
          const results = (futures: ReadonlyArray<Future.Future<unknown, unknown>>, what: string) =>
            Effect.forEach(futures, (future) => within(Future.result(future), callDeadline, what))
          expect(yield* results(same, "calls mutating one shared argument")).toStrictEqual(range(calls).map(() => 8))
          expect(yield* results(inner, "calls mutating an object inside their arguments")).toStrictEqual(
            range(calls).map(() => 8)
          )
          expect(yield* results(array, "calls mutating one shared array")).toStrictEqual(range(calls).map(() => 4))
          // Within one call, an object given twice still arrives as one object, as with pickle.
          expect(yield* results(twice, "calls given one object twice")).toStrictEqual(range(calls).map(() => true))
          expect(box.n).toBe(7)
          expect(data[0]).toBe(3)
        })
      )
    )

    it.live("calls answered together that return one object of their worker each give a copy of their own", () =>
      withPool(pool.make({ maxWorkers: 1 }), (executor) =>
        Effect.gen(function* () {
          yield* warmUp(executor)
          const calls = 50
          // Submitted at once to a warm worker: they run in batches, and their replies come back together.
          const futures = yield* Effect.forEach(range(calls), () => executor.submit(wire.sharedResult))
          const results = (yield* Effect.forEach(futures, (future) =>
            within(Future.result(future), callDeadline, "calls returning one object")
          )) as ReadonlyArray<{ readonly inner: object }>
          expect(results[0]).toStrictEqual({ n: 1, inner: { n: 2 } })
          expect(new Set(results).size).toBe(calls)
          expect(new Set(results.map((result) => result.inner)).size).toBe(calls)
        })
      )
    )

    it.live(
      "an error with fields that cannot cross arrives as the defect it was, with the fields and causes that can",
      () =>
        withPool(pool.make({ maxWorkers: 1 }), (executor) =>
          Effect.gen(function* () {
            const future = yield* executor.submit(wire.throwHttpError, "upstream down")
            const defect = defectOf(yield* awaitExit(future, startDeadline, "a call throwing an HttpError"))
            expect(defect).toBeInstanceOf(Error)
            expect(defect).toMatchObject({
              name: "HttpError",
              message: "upstream down",
              status: 503,
              response: { status: 503, headers: { "retry-after": "1" }, config: { url: "http://example.invalid" } }
            })
            expect(defect.stack).toContain("wire.ts")
            // What cannot cross is left out; what is beside it arrives.
            expect(Object.hasOwn(defect, "callback")).toBe(false)
            expect(Object.hasOwn(defect.response.config, "signal")).toBe(false)
            expect(defect.response.config.transform).toStrictEqual([undefined])
            const socket = defect.cause
            expect(socket).toBeInstanceOf(Error)
            expect(socket).toMatchObject({ name: "Error", message: "socket hang up", code: "ECONNRESET" })
            expect(socket.stack).toContain("wire.ts")
            expect(Object.hasOwn(socket, "onClose")).toBe(false)
            expect(socket.cause).toStrictEqual({ code: "ECONNRESET" })
            yield* expectHealthy(executor)
          })
        )
    )

    it.live(
      "a typed failure that is an Error with fields that cannot cross stays that typed failure, without them",
      () =>
        withPool(pool.make({ maxWorkers: 1 }), (executor) =>
          Effect.gen(function* () {
            const future = yield* executor.submit(wire.failFlaky, 3)
            const exit = yield* awaitExit(future, startDeadline, "a call failing with Flaky")
            expect(Exit.hasDies(exit)).toBe(false)
            const error = failureOf(exit) as any
            expect(error).toMatchObject({ _tag: "Flaky", message: "try again", attempt: 3 })
            expect(Object.hasOwn(error, "retry")).toBe(false)
            expect(error.cause).toBeInstanceOf(Error)
            expect(error.cause).toMatchObject({ name: "HttpError", message: "busy", status: 429 })
            expect(Object.hasOwn(error.cause, "callback")).toBe(false)
            const caught = yield* Future.result(future).pipe(
              Effect.catchTag("Flaky", (e) => Effect.succeed(e.attempt)),
              (effect) => within(effect, callDeadline, "the typed failure")
            )
            expect(caught).toBe(3)
            yield* expectHealthy(executor)
          })
        )
    )

    it.live("a failure outside the task's error Schema is a defect with its own name, message and stack", () =>
      withPool(pool.make({ maxWorkers: 1 }), (executor) =>
        Effect.gen(function* () {
          const future = yield* executor.submit(wire.failOutsideSchema, "not declared")
          const defect = defectOf(yield* awaitExit(future, startDeadline, "a call failing outside its Schema"))
          expect(defect).toBeInstanceOf(Error)
          expect(defect).toMatchObject({
            name: "Undeclared",
            message: "not declared",
            detail: "not in the task's error Schema"
          })
          expect(defect.stack).toContain("wire.ts")
          expect(defect.stack).not.toContain("Schema")
          yield* expectHealthy(executor)
        })
      )
    )

    it.live(
      "replies sent just before a worker exits arrive first: only the exiting call fails, and it ran once (replace)",
      () =>
        Effect.gen(function* () {
          const { file, lines } = yield* tempFile("effect-futures-wire-")
          const rounds = 6
          yield* withPool(pool.make({ maxWorkers: 1, onWorkerDeath: "replace" }), (executor) =>
            Effect.gen(function* () {
              for (let round = 0; round < rounds; round++) {
                // A warm worker takes the calls in one batch or one after another, by how many are queued.
                yield* warmUp(executor)
                const big = yield* executor.submit(wire.bigResult, 4)
                // It exits in its own call, or a moment after it started (after the worker sent what it had).
                const exiting = yield* executor.submit(wire.recordThenExit, file, `round ${round}`, 3, round % 2)
                const behind = yield* Effect.forEach(range(round), (i) => executor.submit(faults.identity, i))
                const bigExit = yield* awaitExit(big, startDeadline, "the 4 MB result")
                expect(
                  Exit.isSuccess(bigExit),
                  `round ${round}: the 4 MB result: ${Exit.isFailure(bigExit) ? Cause.pretty(bigExit.cause) : ""}`
                ).toBe(true)
                const bytes = (bigExit as Exit.Success<Uint8Array>).value
                expect(bytes.length).toBe(4 * 1024 * 1024)
                expect(bytes.every((byte) => byte === 97)).toBe(true)
                const died = expectFailure(
                  yield* awaitExit(exiting, startDeadline, "the exiting call"),
                  WorkerDied,
                  "WorkerDied"
                )
                expect(died.exitCode).toBe(3)
                for (const [i, future] of behind.entries()) {
                  expect(yield* awaitExit(future, startDeadline, "a call behind the exiting one")).toStrictEqual(
                    Exit.succeed(i)
                  )
                }
              }
            })
          )
          expect(lines()).toStrictEqual(range(rounds).map((round) => `round ${round}`))
        }),
      60_000
    )
  })
}

describe("ProcessPoolExecutor only", () => {
  it.live("a worker's exit counts even while something else holds its IPC channel open", () =>
    Effect.gen(function* () {
      const { file } = yield* tempFile("effect-futures-wire-")
      yield* Effect.addFinalizer(() =>
        Effect.sync(() => {
          const pid = Number(readFileSync(file, "utf8"))
          if (pid > 0 && isAlive(pid)) process.kill(pid, "SIGKILL")
        }).pipe(Effect.ignore)
      )
      yield* withPool(ProcessPoolExecutor.make({ maxWorkers: 1 }), (executor) =>
        Effect.gen(function* () {
          yield* expectHealthy(executor)
          const future = yield* executor.submit(wire.exitLeavingChannelOpen, file, 3)
          // Reported when the channel closes, or a couple of seconds after the exit at the latest.
          const broken = expectFailure(
            yield* awaitExit(future, "6 seconds", "the exit of a worker whose channel stays open"),
            BrokenExecutor,
            "BrokenExecutor"
          )
          expect(broken.reason).toMatch(/exited with code 3/)
        })
      )
    })
  )

  for (const onWorkerDeath of ["break", "replace"] as const) {
    it.live(
      `a worker that cannot be spawned breaks the pool at once, naming why (onWorkerDeath: ${onWorkerDeath})`,
      () =>
        Effect.gen(function* () {
          const { file } = yield* tempFile("effect-futures-wire-")
          // A cwd that does not exist: the spawn fails asynchronously, with an 'error' event (ENOENT).
          const cwd = join(file, "missing")
          yield* withPool(ProcessPoolExecutor.make({ maxWorkers: 2, cwd, onWorkerDeath }), (executor) =>
            Effect.gen(function* () {
              const futures = yield* Effect.forEach(range(3), (i) => executor.submit(faults.identity, i))
              for (const future of futures) {
                const broken = expectFailure(
                  yield* awaitExit(future, "3 seconds", "a call on a pool whose workers cannot start"),
                  BrokenExecutor,
                  "BrokenExecutor"
                )
                expect(broken.reason).toMatch(/could not be started/)
                expect(broken.reason).toContain(cwd)
              }
              const later = yield* Effect.flip(executor.submit(faults.identity, 1))
              expect(later).toBeInstanceOf(BrokenExecutor)
            })
          )
        })
    )
  }
})

/** The guard tests' program: processes of its own handed to the children's guard. */
const guardProgram = fileURLToPath(new URL("./fixtures/guardProgram.ts", import.meta.url))

/** What `guardProgram.ts` prints once the guard watches its processes. */
interface GuardReport {
  readonly watched: number
  readonly forgotten: number
  readonly guarded: boolean
}

/** The `/bin/sh` children of a process: its guard. */
const shellsOf = (pid: number): ReadonlyArray<number> =>
  readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .flatMap((name) => {
      try {
        const stat = readFileSync(`/proc/${name}/stat`, "utf8")
        const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1])
        return ppid === pid && readFileSync(`/proc/${name}/cmdline`, "utf8").startsWith("/bin/sh") ? [Number(name)] : []
      } catch {
        return []
      }
    })

/** Spawns `guardProgram.ts` and reads its report; whatever is left of it is killed when the test ends. */
const startGuardProgram = Effect.gen(function* () {
  const child = spawn(process.execPath, [guardProgram], { stdio: ["ignore", "pipe", "inherit"] })
  const pids: Array<number> = []
  yield* Effect.addFinalizer(() =>
    Effect.sync(() => {
      for (const pid of [child.pid ?? -1, ...pids]) if (pid > 0 && isAlive(pid)) process.kill(pid, "SIGKILL")
    })
  )
  const line = yield* within(
    Effect.callback<string, Error>((resume) => {
      let stdout = ""
      child.stdout.on("data", (chunk) => {
        stdout += chunk
        const end = stdout.indexOf("\n")
        if (end >= 0) resume(Effect.succeed(stdout.slice(0, end)))
      })
      child.once("exit", (code, signal) => resume(Effect.fail(new Error(`the program exited (${code ?? signal})`))))
    }),
    startDeadline,
    "the guard program's report"
  )
  const report = JSON.parse(line) as GuardReport
  pids.push(report.watched, report.forgotten)
  return { child, report }
})

/** Waits until `f` holds, checking every 50 ms, for up to `millis`. */
const eventually = (f: () => boolean, millis: number) =>
  Effect.gen(function* () {
    const deadline = Date.now() + millis
    while (!f() && Date.now() < deadline) yield* Effect.sleep(50)
    return f()
  })

describe("the children's guard", () => {
  it.live("kills the processes it watches when its parent is killed with SIGKILL, and none it forgot", () =>
    Effect.gen(function* () {
      const { child, report } = yield* startGuardProgram
      expect(report.guarded).toBe(true)
      child.kill("SIGKILL")
      yield* within(exited(child), shutdownDeadline, "the program's exit after SIGKILL")
      expect(yield* survivors([report.watched], 2_000)).toStrictEqual([])
      expect(isAlive(report.forgotten)).toBe(true)
    })
  )

  it.live("ends once no child of its lives: a pool that has shut down leaves no process behind", () =>
    Effect.gen(function* () {
      yield* Effect.scoped(
        Effect.gen(function* () {
          const executor = yield* ProcessPoolExecutor.make({ maxWorkers: 1 })
          expect(yield* within(Future.result(yield* executor.submit(faults.identity, 1)), callDeadline, "a call")).toBe(
            1
          )
          expect(shellsOf(process.pid)).toHaveLength(1)
        })
      )
      expect(yield* eventually(() => shellsOf(process.pid).length === 0, 2_000)).toBe(true)
    })
  )

  it.live("killed itself, is replaced at once by another that watches the same processes", () =>
    Effect.gen(function* () {
      const { child, report } = yield* startGuardProgram
      const [first] = shellsOf(child.pid!)
      expect(first).toBeDefined()
      // A guard that dies within a second of its start is taken for a shell that cannot run here.
      yield* Effect.sleep(1_200)
      process.kill(first!, "SIGKILL")
      const replaced = yield* eventually(() => shellsOf(child.pid!).some((pid) => pid !== first), 5_000)
      expect(replaced).toBe(true)
      child.kill("SIGKILL")
      yield* within(exited(child), shutdownDeadline, "the program's exit after SIGKILL")
      expect(yield* survivors([report.watched], 2_000)).toStrictEqual([])
      expect(isAlive(report.forgotten)).toBe(true)
    })
  )
})

/** The orphan tests' program: a pool whose workers stay busy, killed with SIGKILL. */
const orphanProgram = fileURLToPath(new URL("./fixtures/orphanProgram.ts", import.meta.url))

/** What `orphanProgram.ts` prints once its two workers are busy. */
interface OrphanReport {
  readonly pids: ReadonlyArray<number>
  readonly running: ReadonlyArray<boolean>
}

/**
 * Spawns `orphanProgram.ts` with its stdout and stderr piped here (its workers inherit them) and
 * reads its report; whatever is left of it is killed when the test ends.
 */
const startOrphanProgram = (kind: "process" | "interpreter" | "unguarded", busy: "spin" | "print") =>
  Effect.gen(function* () {
    const child = spawn(process.execPath, [orphanProgram, kind, busy], { stdio: ["ignore", "pipe", "pipe"] })
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
    const stderrEnded = new Promise<void>((resolve) => child.stderr.once("close", () => resolve()))
    const line = yield* within(
      Effect.callback<string, Error>((resume) => {
        let stdout = ""
        child.stdout.on("data", (chunk) => {
          stdout += chunk
          // Workers that print share this stdout: the report is the line that starts with its key.
          const start = stdout.indexOf('{"pids"')
          const end = start < 0 ? -1 : stdout.indexOf("\n", start)
          if (end >= 0) resume(Effect.succeed(stdout.slice(start, end)))
          else if (start < 0) stdout = stdout.slice(-16)
        })
        child.once("exit", (code, signal) =>
          resume(Effect.fail(new Error(`the program exited (${code ?? signal}) before its report: ${stderr}`)))
        )
      }),
      startDeadline,
      "the orphan program starting its workers"
    )
    const report = JSON.parse(line) as OrphanReport
    pids.push(...report.pids)
    return { child, report, stderr: () => stderr, stderrEnded }
  })

/** The child's exit, once it has exited. */
const exited = (child: ChildProcess) =>
  Effect.callback<void>((resume) => {
    if (child.exitCode !== null || child.signalCode !== null) resume(Effect.void)
    else child.once("exit", () => resume(Effect.void))
  })

describe("a parent that dies without closing its pool", () => {
  for (const kind of ["process", "interpreter"] as const) {
    it.live(`the ${kind} workers of a program killed with SIGKILL while they spin are gone within 2 s`, () =>
      Effect.gen(function* () {
        const { child, report } = yield* startOrphanProgram(kind, "spin")
        expect(report.running).toStrictEqual([true, true])
        expect(report.pids.filter(isAlive)).toStrictEqual(report.pids)
        child.kill("SIGKILL")
        yield* within(exited(child), shutdownDeadline, "the program's exit after SIGKILL")
        expect(yield* survivors(report.pids, 2_000)).toStrictEqual([])
      })
    )
  }

  it.live(
    "a child forked without the pool's guard (as on Bun, Deno, Windows) watches its parent itself: gone within 2 s of its SIGKILL",
    () =>
      Effect.gen(function* () {
        const { child, report } = yield* startOrphanProgram("unguarded", "spin")
        expect(report.running).toStrictEqual([true])
        expect(report.pids.filter(isAlive)).toStrictEqual(report.pids)
        child.kill("SIGKILL")
        yield* within(exited(child), shutdownDeadline, "the program's exit after SIGKILL")
        expect(yield* survivors(report.pids, 2_000)).toStrictEqual([])
      })
  )

  it.live("the workers of a program killed with SIGKILL while they print exit quietly: no EPIPE on stderr", () =>
    Effect.gen(function* () {
      const { child, report, stderr, stderrEnded } = yield* startOrphanProgram("process", "print")
      expect(report.running).toStrictEqual([true, true])
      // The program and the reader of its stdout go together (as a pipeline killed at once): the
      // workers' writes to that stdout fail with EPIPE.
      child.stdout.destroy()
      child.kill("SIGKILL")
      yield* within(exited(child), shutdownDeadline, "the program's exit after SIGKILL")
      expect(yield* survivors(report.pids, 2_000)).toStrictEqual([])
      // Once every worker is gone, their stderr is closed and holds all they wrote.
      yield* within(
        Effect.promise(() => stderrEnded),
        shutdownDeadline,
        "the workers' stderr closing"
      )
      expect(stderr()).not.toContain("EPIPE")
      expect(stderr()).toBe("")
    })
  )
})
