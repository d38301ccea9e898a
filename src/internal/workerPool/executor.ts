/**
 * What the interpreter and process pools share above the machinery: option
 * checks, `submit` and `map` that accept only Tasks, and the scope finalizer.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type { BrokenExecutor } from "../../Errors.ts"
import type * as Executor from "../../Executor.ts"
import { isTask } from "../../Task.ts"
import { makeService } from "../executor/service.ts"
import { ExecutorObserver } from "../observe.ts"
import { resolveEntry, type SpawnAt } from "../platform.ts"
import { Admission } from "../policy/admission.ts"
import {
  badOption,
  checkMaxWorkers,
  checkName,
  checkPoolOptions,
  checkPositiveInt,
  decodeTimeout,
  namingOptionErrors
} from "../policy/options.ts"
import { workerSite } from "../protocol.ts"
import { checkExport } from "../taskExports.ts"
import { WorkerPool } from "./pool.ts"

/** Options both worker pools take: the public `Executor.WorkerPoolOptions`. */
/** @internal */
export type CommonOptions = Executor.WorkerPoolOptions

/** The pool behind each worker executor's service, kept off the service object itself. */
const pools = new WeakMap<Executor.Service, WorkerPool>()

/** The pool behind a worker executor, for the executor's own extras and for tests. */
/** @internal */
export const poolOf = (executor: Executor.Service): WorkerPool | undefined => pools.get(executor)

/** Milliseconds of a decoded Duration; an infinite one stays `Infinity` (never). */
const millis = (duration: Duration.Duration): number =>
  Duration.isFinite(duration) ? Duration.toMillis(duration) : Number.POSITIVE_INFINITY
/** Executors made so far, per kind, for default names. */
const counts = { InterpreterPool: 0, ProcessPool: 0 }

/** How deep pools may nest: a worker at this depth cannot start a worker pool. */
const maxDepth = 3

/**
 * Why a worker pool cannot start here, inside a pool's worker, if it cannot: a pool started while a
 * worker imports a task module, or by code that runs there outside any call, would start again in
 * each of its own workers, without end (the usual cause: a bundler put the program's main code in
 * the module the workers import). A task may start a pool while it runs, a few levels deep.
 */
const refusedHere = (): Cause.IllegalArgumentError | undefined => {
  const site = workerSite()
  if (site === undefined) return undefined
  const why = site.importing()
    ? "while the worker imports a task module"
    : !site.running()
      ? "outside a running task"
      : site.depth >= maxDepth
        ? `nested ${site.depth} pools deep`
        : undefined
  if (why === undefined) return undefined
  const error = new Cause.IllegalArgumentError(
    `cannot start a worker pool inside a pool's worker ${why}: each of its workers would ` +
      "import the same module and start one again. The module the workers import starts a pool: keep " +
      "tasks in a module of their own, without top-level side effects; in a bundled program, bundle " +
      "task modules as entry points of their own (see docs/bundling.md)"
  )
  site.refused ??= error
  return error
}

const describe = (u: unknown): string =>
  typeof u === "function" ? "a function" : Effect.isEffect(u) ? "an Effect" : u === null ? "null" : `a ${typeof u}`

/** @internal */
export const make = <Extra extends object = {}>(
  kind: "InterpreterPool" | "ProcessPool",
  options: CommonOptions,
  defaultMaxWorkers: number,
  spawnAt: SpawnAt,
  extra?: (pool: WorkerPool) => Extra
): Effect.Effect<Executor.Service & Extra, Cause.IllegalArgumentError | BrokenExecutor, Scope.Scope> =>
  Effect.gen(function* () {
    const refused = refusedHere()
    if (refused !== undefined) return yield* refused
    const entry = resolveEntry(options.workerEntry)
    if (typeof entry === "string") return yield* new Cause.IllegalArgumentError(entry)
    const maxWorkers = options.maxWorkers ?? defaultMaxWorkers
    const badMax = checkMaxWorkers(maxWorkers)
    if (badMax) return yield* badMax
    if (options.maxTasksPerChild !== undefined) {
      const bad = checkPositiveInt("maxTasksPerChild", options.maxTasksPerChild)
      if (bad) return yield* bad
    }
    const initializer = options.initializer
    if (initializer !== undefined && !isTask(initializer)) {
      return yield* new Cause.IllegalArgumentError(
        "initializer must be a Task (Task.make(import.meta.url, name, fn)), since it runs in each worker, " +
          `got ${describe(initializer)}`
      )
    }
    const grace = decodeTimeout("interruptGrace", options.interruptGrace ?? "1 second")
    if (Cause.isIllegalArgumentError(grace)) return yield* grace
    const policy = checkPoolOptions(options)
    if (policy instanceof Error) return yield* policy
    const onWorkerDeath = options.onWorkerDeath ?? "break"
    if (onWorkerDeath !== "break" && onWorkerDeath !== "replace") {
      return yield* badOption("onWorkerDeath", '"break" or "replace"', onWorkerDeath)
    }
    const terminateGrace = decodeTimeout("terminateGrace", options.terminateGrace ?? "5 seconds")
    if (Cause.isIllegalArgumentError(terminateGrace)) return yield* terminateGrace
    const idleTimeout = decodeTimeout("idleTimeout", options.idleTimeout)
    if (Cause.isIllegalArgumentError(idleTimeout)) return yield* idleTimeout
    if (idleTimeout !== undefined && Duration.isZero(idleTimeout)) {
      return yield* badOption("idleTimeout", "greater than zero", options.idleTimeout)
    }
    const minWorkers = options.minWorkers ?? 0
    if (typeof minWorkers !== "number" || !Number.isInteger(minWorkers) || minWorkers < 0 || minWorkers > maxWorkers) {
      return yield* badOption("minWorkers", `a whole number from 0 to maxWorkers (${maxWorkers})`, minWorkers)
    }
    const prestart = options.prestart === true ? maxWorkers : (options.prestart ?? 0)
    if (
      prestart !== false &&
      (typeof prestart !== "number" || !Number.isInteger(prestart) || prestart < 0 || prestart > maxWorkers)
    ) {
      return yield* badOption(
        "prestart",
        `true, false or a whole number from 0 to maxWorkers (${maxWorkers})`,
        prestart
      )
    }
    if (options.maxMemoryPerWorker !== undefined) {
      const bad = checkPositiveInt("maxMemoryPerWorker", options.maxMemoryPerWorker)
      if (bad) return yield* bad
    }
    const name = checkName(options.name, () => `${kind}Executor-${counts[kind]++}`)
    if (typeof name !== "string") return yield* name
    const context = yield* Effect.context<never>()
    const observer = new ExecutorObserver(kind, name)
    const pool = new WorkerPool({
      kind,
      maxWorkers,
      spawn: spawnAt(entry),
      initializer:
        initializer === undefined
          ? undefined
          : { module: initializer.module, name: initializer.name, args: options.initargs ?? [] },
      maxTasksPerChild: options.maxTasksPerChild,
      interruptGraceMillis: Duration.toMillis(grace!),
      onWorkerDeath,
      terminateGraceMillis: millis(terminateGrace!),
      idleTimeoutMillis: idleTimeout === undefined || !Duration.isFinite(idleTimeout) ? undefined : millis(idleTimeout),
      minWorkers,
      maxMemoryBytes: options.maxMemoryPerWorker === undefined ? undefined : options.maxMemoryPerWorker * 1024 * 1024,
      context,
      admission: policy.maxQueue === undefined ? undefined : new Admission(kind, policy.maxQueue, policy.whenFull),
      observer
    })
    const notATask = (call: "submit" | "map", task: unknown) =>
      new Cause.IllegalArgumentError(
        `${call}: ${kind === "ProcessPool" ? "a ProcessPoolExecutor" : "an InterpreterPoolExecutor"} runs Tasks ` +
          `(Task.make(import.meta.url, name, fn)), since a worker must import the function; got ${describe(task)}`
      )
    const service = yield* makeService({
      kind,
      name,
      pool,
      observer,
      context,
      failOnUnobserved: policy.failOnUnobserved,
      // A programming error, the same whatever the pool's state: the call dies at once, before the
      // broken and shutdown checks, rather than give a future that fails when read. The parent's
      // check of the task's export may still be under way: then the call waits for it.
      check: (call, task) => {
        if (!isTask(task)) return Effect.die(notATask(call, task))
        const problem = checkExport(task)
        if (problem === null) return undefined
        return typeof problem === "string"
          ? Effect.die(new Cause.IllegalArgumentError(`${call}: ${problem}`))
          : Effect.promise(() => problem)
      }
    })
    pool.start()
    const executor: Executor.Service & Extra = { ...(extra?.(pool) as Extra), ...service }
    pools.set(executor, pool)
    return { executor, prestart: prestart === false ? 0 : prestart }
  }).pipe(
    namingOptionErrors(`${kind}Executor`),
    // After the option checks, which name the executor: a worker that cannot start fails the layer.
    Effect.flatMap(({ executor, prestart }) =>
      prestart === 0 ? Effect.succeed(executor) : Effect.as(pools.get(executor)!.prestart(prestart), executor)
    )
  )
