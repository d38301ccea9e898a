/**
 * The chaos harness: a few thousand tasks of mixed kinds (fast, slow,
 * failing, Effect-returning) submitted to a pool in random bursts while
 * faults happen: futures cancelled and interrupted at random, a worker
 * SIGKILLed from outside or calling `process.exit` (with the pool breaking,
 * as in Python, or replacing the worker, `onWorkerDeath: "replace"`),
 * `shutdown({ cancelFutures: true })` mid-flight, the scope closed by
 * interruption; the worker pools also get random `maxTasksPerChild`,
 * `idleTimeout` and `interruptGrace`. Some tasks are submitted with
 * `submitWith`: a `signal` shared by many and aborted at some point, `retries`
 * (which interrupts must still stop) or a `timeout`. Workers of the worker
 * pools also send foreign messages on the pool's channel (`chatty`), and a
 * large result goes just before a worker's `process.exit`, which must not be
 * lost nor blamed. Then a ledger is checked: every future
 * ended exactly once (counted by done callbacks), none is left pending once
 * the scope has closed, the outcomes add up to what was submitted, every
 * outcome is one the faults allow (a result, the task's typed failure or
 * defect, `CancelledError`, `BrokenExecutor`, `WorkerDied`, or
 * `ExecutionFailed` for a call lost with a worker replaced after an
 * interrupt), `cancel` and `interrupt` returned what the end shows, and
 * every result is the right one.
 *
 * Everything random comes from one seeded generator, so a failing seed can be
 * replayed (the interleaving with the workers still varies from run to run).
 * The test file runs a few seeds per pool; see `chaos.test.ts` for the
 * environment variables.
 */
import { getEventListeners } from "node:events"
import { readFileSync } from "node:fs"
import { Cause, Effect, Exit, Fiber, Option, Scope } from "effect"
import {
  BrokenExecutor,
  CancelledError,
  ExecutionFailed,
  type Executor,
  ExecutorShutdownError,
  Future,
  InterpreterPoolExecutor,
  ProcessPoolExecutor,
  ThreadPoolExecutor,
  WorkerDied
} from "../../src/index.ts"
import { poolOf } from "../../src/internal/workerPool/executor.ts"
import * as chaos from "./chaosTasks.ts"

/** The pools the chaos suite runs on. */
export type PoolName = "ThreadPool" | "InterpreterPool" | "ProcessPool"

/**
 * The fault that ends a run, chosen by the seed (`seed % length` of the pool's list), so that a few
 * consecutive seeds cover them all:
 * - `shutdown`: `shutdown({ cancelFutures: true })` mid-flight (waiting or not, at random);
 * - `sigkill`: a worker process SIGKILLed from outside (process pool);
 * - `exit`: a task calls `process.exit` in its worker (worker pools);
 * - `interruptScope`: the scope closes by interruption while tasks run and wait;
 * - `none`: the scope closes normally (`shutdown({ wait: true })`) after the last submit.
 */
export type Terminal = "shutdown" | "sigkill" | "exit" | "interruptScope" | "none"

/** The terminal faults each pool can suffer, in the order `seed % length` picks them. */
export const terminals: Record<PoolName, ReadonlyArray<Terminal>> = {
  ThreadPool: ["shutdown", "interruptScope", "none"],
  InterpreterPool: ["exit", "shutdown", "interruptScope", "none"],
  ProcessPool: ["sigkill", "exit", "shutdown", "interruptScope", "none"]
}

/**
 * Whether a run's worker pool replaces dead workers (`onWorkerDeath: "replace"`) instead of breaking,
 * also chosen by the seed: every other round of terminal faults, so seed `n` and seed
 * `n + terminals.length` meet the same fault in the two modes.
 */
export const replaces = (pool: PoolName, seed: number): boolean =>
  pool !== "ThreadPool" && Math.floor(seed / terminals[pool].length) % 2 === 1

/** Options of one chaos run. */
export interface ChaosOptions {
  readonly pool: PoolName
  readonly seed: number
  /** How many submits to attempt. */
  readonly tasks: number
}

/** What a run did, for the failure message and for anyone who wants figures. */
export interface ChaosReport {
  readonly pool: PoolName
  readonly seed: number
  /** The terminal fault, and the death mode where it matters. */
  readonly terminal: string
  readonly config: string
  readonly attempted: number
  readonly accepted: number
  readonly rejected: number
  /** Outcome counts by class: result, typed, defect, cancelled, broken, replaced. */
  readonly outcomes: Readonly<Record<string, number>>
  /** What happened, in order, with the submit index it happened at. */
  readonly events: ReadonlyArray<string>
  /** Every rule the ledger found broken; empty when the run passed. */
  readonly violations: ReadonlyArray<string>
  readonly millis: number
}

/** mulberry32: a small seeded generator, enough for choosing test inputs. */
const generator = (seed: number): (() => number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

interface Random {
  readonly next: () => number
  /** A whole number in `[lo, hi]`. */
  readonly int: (lo: number, hi: number) => number
  readonly chance: (p: number) => boolean
  readonly weighted: <A>(table: ReadonlyArray<readonly [A, number]>) => A
}

const random = (seed: number): Random => {
  const next = generator(seed)
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1))
  return {
    next,
    int,
    chance: (p) => next() < p,
    weighted: (table) => {
      const total = table.reduce((sum, [, w]) => sum + w, 0)
      let r = next() * total
      for (const [a, w] of table) {
        r -= w
        if (r < 0) return a
      }
      return table[table.length - 1]![0]
    }
  }
}

/** The kinds of task a run submits. */
type Kind =
  | "fast"
  | "slow"
  | "abortable"
  | "effect"
  | "failTyped"
  | "effectFail"
  | "throwDefect"
  | "pid"
  | "exitWorker"
  /** Worker pools only: sends foreign messages to the parent. */
  | "chatty"
  | "big"
  /** Thread pool only: a bare Effect. */
  | "rawEffect"
  /** Thread pool only: a plain function. */
  | "function"

const rawEffectResult = (x: number): number => x * 11 + 5
const functionResult = (x: number): number => x * 13 + 6

/** One attempted submit and everything the ledger needs about it. */
interface Entry {
  readonly index: number
  readonly kind: Kind
  readonly x: number
  future: Future.Future<unknown, unknown> | undefined
  rejected: unknown
  /** Done-callback calls, and the exit the first call saw. */
  callbacks: number
  callbackExit: Exit.Exit<unknown, unknown> | undefined
  /** `Future.cancel` was called and returned true. */
  cancelWon: boolean
  /** `Future.interrupt` was called on it. */
  interrupted: boolean
  /** What each `Future.interrupt` on it returned: true when it ended cancelled. */
  interruptResults: Array<boolean>
  /** Submitted with the run's shared `signal`. */
  signalled: boolean
  /** Submitted with `retries`. */
  retried: boolean
  /** Submitted with a `timeout`: it may end with `TimeoutError`. */
  timed: boolean
}

type AnyExecutor = Executor.Service

type LooseSubmit = (
  task: unknown,
  ...args: Array<unknown>
) => Effect.Effect<Future.Future<unknown, unknown>, Executor.SubmitError>

/**
 * The pool's `make` with options chosen from the seed, and their description. `replace` makes a
 * worker pool replace a dead worker (`onWorkerDeath: "replace"`) instead of breaking.
 */
const makePool = (pool: PoolName, r: Random, replace: boolean) => {
  switch (pool) {
    case "ThreadPool": {
      const options = { maxWorkers: r.int(1, 8) }
      return { config: JSON.stringify(options), make: ThreadPoolExecutor.make(options) }
    }
    case "InterpreterPool":
    case "ProcessPool": {
      const options = {
        // Few workers: starting one is most of what a run costs.
        maxWorkers: r.int(1, pool === "ProcessPool" ? 2 : 3),
        interruptGrace: r.int(50, 300),
        ...(replace ? { onWorkerDeath: "replace" as const } : {}),
        ...(r.chance(0.25) ? { idleTimeout: r.int(100, 400) } : {}),
        ...(r.chance(pool === "ProcessPool" ? 0.2 : 0.3)
          ? { maxTasksPerChild: pool === "ProcessPool" ? r.int(500, 1500) : r.int(200, 800) }
          : {})
      }
      return {
        config: JSON.stringify(options),
        make: pool === "ProcessPool" ? ProcessPoolExecutor.make(options) : InterpreterPoolExecutor.make(options)
      }
    }
  }
}

const maxWorkersOf = (config: string): number => (JSON.parse(config) as { maxWorkers: number }).maxWorkers

/** The kinds a pool runs, with their weights. */
const kindsFor = (pool: PoolName): ReadonlyArray<readonly [Kind, number]> => {
  const common: Array<readonly [Kind, number]> = [
    ["fast", 50],
    ["slow", 6],
    ["abortable", 6],
    ["effect", 8],
    ["failTyped", 8],
    ["effectFail", 4],
    ["throwDefect", 6]
  ]
  if (pool === "ThreadPool") return [...common, ["rawEffect", 8], ["function", 8], ["big", 1]]
  return [...common, ["pid", 3], ["chatty", 3], ["big", 1]]
}

/** The task and arguments of a kind. */
const taskOf = (kind: Kind, x: number, ms: number): readonly [unknown, ReadonlyArray<unknown>] => {
  switch (kind) {
    case "fast":
      return [chaos.fast, [x]]
    case "failTyped":
      return [chaos.failTyped, [x]]
    case "throwDefect":
      return [chaos.throwDefect, [x]]
    case "slow":
      return [chaos.slow, [x, ms]]
    case "abortable":
      return [chaos.abortable, [x, ms]]
    case "effect":
      return [chaos.effect, [x, ms]]
    case "effectFail":
      return [chaos.effectFail, [x, ms]]
    case "pid":
      return [chaos.pid, []]
    case "exitWorker":
      return [chaos.exitWorker, [x % 100, ms]]
    case "chatty":
      return [chaos.chatty, [x]]
    case "big":
      return [chaos.big, [x]]
    case "rawEffect":
      return [Effect.as(Effect.sleep(ms), rawEffectResult(x)), []]
    case "function":
      return [(n: number) => (ms === 0 ? functionResult(n) : Promise.resolve(functionResult(n))), [x]]
  }
}

/** The process whose parent is this one, read from `/proc`; `undefined` where there is no `/proc`. */
const parentOf = (pid: number): number | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1])
  } catch {
    return undefined
  }
}

/** Whether `pid` still runs as our child (a zombie counts as gone). */
const isLiveChild = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    return fields[0] !== "Z" && Number(fields[1]) === process.pid
  } catch {
    return false
  }
}

const canSeeProcesses = (): boolean => parentOf(process.pid) !== undefined

/** How an exit is classed in the ledger. */
type Outcome = "result" | "typed" | "defect" | "cancelled" | "broken" | "died" | "replaced" | "timeout" | "unexpected"

const classify = (exit: Exit.Exit<unknown, unknown>): { readonly outcome: Outcome; readonly value: unknown } => {
  if (Exit.isSuccess(exit)) return { outcome: "result", value: exit.value }
  const error = Option.getOrUndefined(Cause.findErrorOption(exit.cause))
  if (error !== undefined) {
    if (error instanceof CancelledError) return { outcome: "cancelled", value: error }
    if (error instanceof BrokenExecutor) return { outcome: "broken", value: error }
    if (error instanceof WorkerDied) return { outcome: "died", value: error }
    if (error instanceof ExecutionFailed && error.name === "WorkerReplaced")
      return { outcome: "replaced", value: error }
    if (error instanceof chaos.ChaosError) return { outcome: "typed", value: error }
    if (Cause.isTimeoutError(error)) return { outcome: "timeout", value: error }
    return { outcome: "unexpected", value: error }
  }
  if (exit.cause.reasons.length > 0 && exit.cause.reasons.every(Cause.isDieReason)) {
    return { outcome: "defect", value: Cause.squash(exit.cause) }
  }
  return { outcome: "unexpected", value: Cause.pretty(exit.cause) }
}

const describeValue = (u: unknown): string => {
  if (u instanceof Error) return `${u.name}: ${u.message}`
  try {
    return JSON.stringify(u) ?? String(u)
  } catch {
    return String(u)
  }
}

/** Runs one chaos run and returns its report; `violations` lists every broken rule. */
export const runChaos = (options: ChaosOptions): Effect.Effect<ChaosReport> =>
  Effect.gen(function* () {
    const started = Date.now()
    /** When something happened, from the start of the run. */
    const at = () => `+${Date.now() - started} ms`
    const { pool, seed } = options
    const r = random(seed)
    const terminal = terminals[pool][seed % terminals[pool].length]!
    const replace = replaces(pool, seed)
    const { config, make } = makePool(pool, r, replace)
    const kinds = kindsFor(pool)
    const events: Array<string> = []
    const violations: Array<string> = []
    const entries: Array<Entry> = []
    const pids = new Set<number>()
    const background: Array<Fiber.Fiber<unknown, unknown>> = []
    const sigkill = terminal === "sigkill" && canSeeProcesses()

    // The fault schedule: a few batches of cancels and interrupts, and the terminal fault.
    const schedule = new Map<number, Array<string>>()
    const plan = (index: number, what: string) => schedule.set(index, [...(schedule.get(index) ?? []), what])
    for (let i = r.int(1, 3); i > 0; i--) plan(r.int(0, options.tasks - 1), "cancel")
    for (let i = r.int(1, 2); i > 0; i--) plan(r.int(0, options.tasks - 1), "interrupt")
    plan(r.int(0, options.tasks - 1), "abort")
    /** The signal some tasks share; the "abort" fault aborts it. */
    const controller = new AbortController()
    let aborted = false
    const terminalAt = r.int(Math.floor(options.tasks / 4), options.tasks - 1)
    if (terminal === "shutdown" || terminal === "exit" || sigkill) plan(terminalAt, terminal)
    let terminalIndex: number | undefined
    let cancelFutures = false

    const scope = yield* Scope.make()
    const executor = (yield* Scope.provide(scope)(make).pipe(Effect.orDie)) as AnyExecutor
    const submit = executor.submit as unknown as LooseSubmit
    const submitWith = (options: Executor.SubmitOptions) => executor.submitWith(options) as unknown as LooseSubmit

    // Start every worker first, outside the ledger, as CPython's tests prime an executor: the faults
    // should meet running workers, not a pool still starting.
    const primes = yield* Effect.forEach(Array.from({ length: maxWorkersOf(config) }), () =>
      submit(chaos.slow, 0, 30).pipe(Effect.orDie)
    )
    for (const f of primes) {
      if (Option.isNone(yield* Effect.timeoutOption(Future.await(f), "30 seconds"))) {
        violations.push("priming the pool did not finish within 30 seconds")
      }
    }

    const record = (entry: Entry, future: Future.Future<unknown, unknown>) =>
      Future.addDoneCallback(future, (done) =>
        Effect.map(Future.await(done), (exit) => {
          entry.callbacks++
          if (entry.callbacks === 1) entry.callbackExit = exit
          if (entry.kind === "pid" && Exit.isSuccess(exit)) pids.add(exit.value as number)
        })
      )

    const submitOne = (kind: Kind, ms: number) =>
      Effect.gen(function* () {
        const index = entries.length
        const x = r.int(0, 1_000_000)
        const entry: Entry = {
          index,
          kind,
          x,
          future: undefined,
          rejected: undefined,
          callbacks: 0,
          callbackExit: undefined,
          cancelWon: false,
          interrupted: false,
          interruptResults: [],
          signalled: false,
          retried: false,
          timed: false
        }
        entries.push(entry)
        const [task, args] = taskOf(kind, x, ms)
        // Some tasks go through submitWith: the shared signal, retries, a timeout, or a mix.
        let options: Executor.SubmitOptions | undefined
        if (kind !== "exitWorker" && kind !== "pid" && r.chance(0.2)) {
          entry.signalled = r.chance(0.5)
          entry.retried = r.chance(0.4)
          entry.timed = r.chance(0.2)
          options = {
            ...(entry.signalled ? { signal: controller.signal } : {}),
            ...(entry.retried ? { retries: r.int(1, 2) } : {}),
            ...(entry.timed ? { timeout: r.int(200, 1000) } : {})
          }
        }
        const out = yield* Effect.exit(
          options === undefined ? submit(task, ...args) : submitWith(options)(task, ...args)
        )
        if (Exit.isSuccess(out)) {
          entry.future = out.value
          yield* record(entry, out.value)
        } else {
          entry.rejected = Cause.squash(out.cause)
        }
      })

    /** Accepted futures, picked at random. */
    const somePicked = (n: number): Array<Entry> => {
      const accepted = entries.filter((e) => e.future !== undefined)
      return Array.from({ length: Math.min(n, accepted.length) }, () => accepted[r.int(0, accepted.length - 1)]!)
    }

    const fault = (what: string, index: number) =>
      Effect.gen(function* () {
        switch (what) {
          case "cancel": {
            const picked = somePicked(r.int(1, 50))
            let won = 0
            for (const entry of picked) {
              if (yield* Future.cancel(entry.future!)) {
                entry.cancelWon = true
                won++
              }
            }
            events.push(`${at()} #${index}: cancel ${picked.length} futures, ${won} cancelled`)
            return
          }
          case "interrupt": {
            const picked = somePicked(r.int(1, 8))
            for (const entry of picked) {
              entry.interrupted = true
              const interrupting = Effect.tap(Future.interrupt(entry.future!), (won) =>
                Effect.sync(() => entry.interruptResults.push(won))
              )
              background.push(yield* Effect.forkChild(interrupting, { startImmediately: true }))
            }
            events.push(`${at()} #${index}: interrupt ${picked.length} futures`)
            return
          }
          case "shutdown": {
            const wait = r.chance(0.5)
            cancelFutures = true
            terminalIndex = index
            background.push(
              yield* Effect.forkChild(executor.shutdown({ wait, cancelFutures: true }), { startImmediately: true })
            )
            events.push(`${at()} #${index}: shutdown({ wait: ${wait}, cancelFutures: true })`)
            return
          }
          case "abort": {
            aborted = true
            controller.abort()
            events.push(`${at()} #${index}: the shared signal aborts`)
            return
          }
          case "exit": {
            terminalIndex = index
            // A large result just before the exit: it must arrive, and the exit must not be blamed on it.
            yield* submitOne("big", 0)
            yield* submitOne("exitWorker", r.int(0, 20))
            events.push(`${at()} #${index}: a task calls process.exit in its worker`)
            return
          }
          case "sigkill": {
            terminalIndex = index
            if (pids.size === 0) {
              // Learn a worker's pid first.
              const entry = entries.length
              yield* submitOne("pid", 0)
              const future = entries[entry]!.future
              if (future !== undefined) yield* Effect.timeoutOption(Future.await(future), "10 seconds")
            }
            const live = [...pids].filter(isLiveChild)
            if (live.length === 0) {
              events.push(`${at()} #${index}: SIGKILL skipped, no live worker known`)
              return
            }
            const victim = live[r.int(0, live.length - 1)]!
            process.kill(victim, "SIGKILL")
            events.push(`${at()} #${index}: SIGKILL worker ${victim}`)
            return
          }
        }
      })

    // Submit in bursts, with the faults at their indices and short pauses between bursts.
    while (entries.length < options.tasks) {
      const burst = r.int(1, 64)
      for (let i = 0; i < burst && entries.length < options.tasks; i++) {
        const index = entries.length
        for (const what of schedule.get(index) ?? []) yield* fault(what, index)
        if (entries.length >= options.tasks) break
        const kind = r.weighted(kinds)
        const ms = kind === "fast" || kind === "failTyped" || kind === "throwDefect" ? 0 : r.int(0, 5)
        yield* submitOne(kind, ms)
      }
      const pause = r.int(0, 3)
      yield* pause === 0 ? Effect.yieldNow : Effect.sleep(pause)
    }

    // Close the scope: normally, or by interruption while tasks still run.
    const closeExit = terminal === "interruptScope" ? Exit.interrupt() : Exit.void
    if (terminal === "interruptScope") {
      yield* Effect.sleep(r.int(0, 300))
      events.push(`${at()} #${entries.length}: the scope closes by interruption`)
    }
    events.push(`${at()}: ${entries.length} submits done, the scope closes`)
    const closeDeadline = "30 seconds"
    const closing = yield* Effect.forkDetach(Scope.close(scope, closeExit))
    const closed = yield* Effect.timeoutOption(Fiber.await(closing), closeDeadline)
    if (Option.isNone(closed)) {
      violations.push(`closing the scope did not return within ${closeDeadline}: a deadlock`)
      const pool = poolOf(executor)
      if (pool !== undefined) {
        yield* Effect.timeoutOption(pool.forceShutdown("SIGKILL", "the chaos deadline"), "10 seconds")
      }
    }

    events.push(`${at()}: the scope has closed`)
    // Interrupts and a waiting shutdown must have returned too.
    const finished = yield* Effect.timeoutOption(Fiber.awaitAll(background), "15 seconds")
    if (Option.isNone(finished)) violations.push("a Future.interrupt or shutdown did not return within 15 seconds")

    // The ledger.
    const accepted = entries.filter((e) => e.future !== undefined)
    const rejected = entries.filter((e) => e.future === undefined)
    const deathFault = terminal === "exit" || sigkill
    const brokenFault = deathFault && !replace
    if (accepted.length + rejected.length !== entries.length) violations.push("accepted + rejected != attempted")

    // Submits are rejected only after a terminal fault, and then every later one is.
    const firstRejected = rejected[0]?.index
    if (firstRejected !== undefined) {
      if (terminalIndex === undefined || firstRejected < terminalIndex) {
        violations.push(`submit #${firstRejected} was rejected before any fault that stops the pool`)
      }
      const lateAccepted = accepted.find((e) => e.index > firstRejected)
      if (lateAccepted !== undefined) {
        violations.push(`submit #${lateAccepted.index} was accepted after #${firstRejected} was rejected`)
      }
    }
    for (const e of rejected) {
      const ok =
        e.rejected instanceof ExecutorShutdownError
          ? terminal === "shutdown"
          : e.rejected instanceof BrokenExecutor && brokenFault && e.rejected.kind === pool
      if (!ok) violations.push(`submit #${e.index} was rejected with ${describeValue(e.rejected)}`)
    }

    // Every future is done once the scope has closed, and its done callback ran exactly once.
    const callbackDeadline = Date.now() + 5_000
    while (accepted.some((e) => e.callbacks === 0) && Date.now() < callbackDeadline) yield* Effect.sleep(10)
    // A little longer, so a callback that would run twice has had the chance.
    yield* Effect.sleep(20)
    const outcomes: Record<string, number> = {}
    for (const e of accepted) {
      const f = e.future!
      const state = yield* Future.state(f)
      const where = `#${e.index} (${e.kind} ${e.x})`
      if (state === "PENDING" || state === "RUNNING") {
        violations.push(`${where} is still ${state} after the scope closed`)
        continue
      }
      if (state === "CANCELLED") {
        violations.push(`${where} is CANCELLED but was never notified: wait and asCompleted would not see it`)
      }
      if (e.callbacks !== 1) violations.push(`${where}: its done callback ran ${e.callbacks} times`)
      const exit = yield* Effect.timeoutOption(Future.await(f), "1 second")
      if (Option.isNone(exit)) {
        violations.push(`${where}: Future.await did not return though the future is ${state}`)
        continue
      }
      const { outcome, value } = classify(exit.value)
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1
      if (e.callbackExit !== undefined && classify(e.callbackExit).outcome !== outcome) {
        violations.push(`${where}: the done callback saw ${classify(e.callbackExit).outcome}, await gives ${outcome}`)
      }
      const problem = checkOutcome(pool, e, outcome, value, {
        brokenFault,
        diedFault: deathFault && replace,
        // Only a call that exits its worker dies of it; SIGKILL from outside may hit any call.
        diedAnyCall: sigkill,
        cancelFutures,
        interruptScope: terminal === "interruptScope",
        aborted,
        // A timeout interrupts like Future.interrupt, and may replace a worker too.
        interrupts: entries.some((entry) => entry.interrupted || entry.timed)
      })
      if (problem !== undefined) violations.push(`${where}: ${problem}`)
    }
    // No abort listener is left on the shared signal once its futures have ended.
    const listeners = getEventListeners(controller.signal, "abort").length
    if (listeners > 0) violations.push(`${listeners} abort listeners are left on the shared signal`)
    const total = Object.values(outcomes).reduce((a, b) => a + b, 0)
    if (total !== accepted.length) violations.push(`outcomes add up to ${total}, not the ${accepted.length} accepted`)

    // No worker process outlives the scope.
    if (pool === "ProcessPool" && canSeeProcesses()) {
      const deadline = Date.now() + 5_000
      while ([...pids].some(isLiveChild) && Date.now() < deadline) yield* Effect.sleep(50)
      const alive = [...pids].filter(isLiveChild)
      if (alive.length > 0) violations.push(`worker processes ${alive.join(", ")} outlived the scope`)
    }

    return {
      pool,
      seed,
      terminal: replace ? `${terminal} (onWorkerDeath: replace)` : terminal,
      config,
      attempted: entries.length,
      accepted: accepted.length,
      rejected: rejected.length,
      outcomes,
      events,
      violations: violations.slice(0, 40).concat(violations.length > 40 ? [`... ${violations.length - 40} more`] : []),
      millis: Date.now() - started
    }
  })

/** The ledger's rule for one future: `undefined` when its outcome is allowed, else what is wrong. */
const checkOutcome = (
  pool: PoolName,
  e: Entry,
  outcome: Outcome,
  value: unknown,
  faults: {
    /** A worker died and the pool breaks on that. */
    readonly brokenFault: boolean
    /** A worker died and the pool replaces it: only the call it ran fails. */
    readonly diedFault: boolean
    /** The death was a SIGKILL from outside: whatever call its worker ran may die of it. */
    readonly diedAnyCall: boolean
    readonly cancelFutures: boolean
    readonly interruptScope: boolean
    /** The shared signal was aborted. */
    readonly aborted: boolean
    /** Some future was interrupted: a worker may have been replaced. */
    readonly interrupts: boolean
  }
): string | undefined => {
  if (e.cancelWon && outcome !== "cancelled") return `Future.cancel returned true, yet it ended ${outcome}`
  for (const won of e.interruptResults) {
    if (won !== (outcome === "cancelled")) return `Future.interrupt returned ${won}, yet it ended ${outcome}`
  }
  switch (outcome) {
    case "cancelled":
      return e.cancelWon ||
        e.interrupted ||
        faults.cancelFutures ||
        faults.interruptScope ||
        (e.signalled && faults.aborted)
        ? undefined
        : "ended cancelled though nothing cancelled it"
    case "timeout":
      return e.timed ? undefined : `ended with a TimeoutError though it had no timeout: ${describeValue(value)}`
    case "died": {
      if (!faults.diedFault)
        return `ended with WorkerDied though no worker died in replace mode: ${describeValue(value)}`
      if (!faults.diedAnyCall && e.kind !== "exitWorker") {
        return `a ${e.kind} call ended with WorkerDied, though only the call that exited its worker died`
      }
      return (value as WorkerDied).kind === pool ? undefined : `WorkerDied of kind ${(value as WorkerDied).kind}`
    }
    case "broken":
      if (!faults.brokenFault) return `ended with BrokenExecutor though no worker died: ${describeValue(value)}`
      return (value as BrokenExecutor).kind === pool
        ? undefined
        : `BrokenExecutor of kind ${(value as BrokenExecutor).kind}`
    case "replaced":
      return pool !== "ThreadPool" && faults.interrupts
        ? undefined
        : "ended with ExecutionFailed (WorkerReplaced) though no worker was replaced"
    case "typed": {
      const error = value as chaos.ChaosError
      if (e.kind !== "failTyped" && e.kind !== "effectFail") return `a ${e.kind} task failed with ChaosError`
      return error.input === e.x ? undefined : `ChaosError for input ${error.input}, not ${e.x}`
    }
    case "defect": {
      const error = value as Error
      if (e.kind !== "throwDefect") return `died: ${describeValue(value)}`
      return error?.name === "ChaosDefect" && error.message === `defect ${e.x}`
        ? undefined
        : `the wrong defect: ${describeValue(value)}`
    }
    case "result": {
      if (e.kind === "big") {
        const bytes = value as Uint8Array
        return bytes instanceof Uint8Array &&
          bytes.length === chaos.bigSize(e.x) &&
          bytes[0] === e.x % 251 &&
          bytes[bytes.length - 1] === e.x % 251
          ? undefined
          : `a wrong big result: ${bytes instanceof Uint8Array ? `${bytes.length} bytes` : describeValue(bytes)}`
      }
      const want = expectedResult(pool, e)
      if (want === "any pid") {
        const own = value === process.pid
        return typeof value === "number" && (pool === "ProcessPool" ? !own : own)
          ? undefined
          : `pid ${describeValue(value)} in a ${pool}`
      }
      return value === want ? undefined : `result ${describeValue(value)}, expected ${describeValue(want)}`
    }
    case "unexpected":
      return `ended with ${describeValue(value)}`
  }
}

const expectedResult = (_pool: PoolName, e: Entry): unknown => {
  switch (e.kind) {
    case "fast":
    case "slow":
    case "abortable":
    case "effect":
    case "chatty":
      return chaos.expected[e.kind](e.x)
    case "rawEffect":
      return rawEffectResult(e.x)
    case "function":
      return functionResult(e.x)
    case "pid":
      return "any pid"
    default:
      return `no result: a ${e.kind} task cannot succeed`
  }
}
