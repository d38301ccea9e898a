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
import * as Stream from "effect/Stream"
import type * as Executor from "../Executor.ts"
import { isTask, type Task } from "../Task.ts"
import { mapWith, type Submitted } from "./executor.ts"
import { ExecutorObserver } from "./observe.ts"
import { badOption, checkPositiveInt, decodeTimeout } from "./options.ts"
import type { Spawn } from "./platform.ts"
import { WorkerPool } from "./workerPool.ts"

/** Options both worker pools take. */
/** @internal */
export interface CommonOptions {
  readonly maxWorkers?: number | undefined
  readonly initializer?: Task<any, unknown, unknown> | undefined
  readonly initargs?: ReadonlyArray<unknown> | undefined
  readonly maxTasksPerChild?: number | undefined
  readonly interruptGrace?: Duration.Input | undefined
  readonly name?: string | undefined
}

/** @internal */
export interface WorkerExecutor extends Executor.Service {
  readonly pool: WorkerPool
}

/** Executors made so far, per kind, for default names. */
const counts = { InterpreterPool: 0, ProcessPool: 0 }

const describe = (u: unknown): string =>
  typeof u === "function" ? "a function" : Effect.isEffect(u) ? "an Effect" : u === null ? "null" : `a ${typeof u}`

/** @internal */
export const make = (
  kind: "InterpreterPool" | "ProcessPool",
  options: CommonOptions,
  defaultMaxWorkers: number,
  spawn: Spawn
): Effect.Effect<WorkerExecutor, Cause.IllegalArgumentError, Scope.Scope> =>
  Effect.gen(function* () {
    const maxWorkers = options.maxWorkers ?? defaultMaxWorkers
    if (typeof maxWorkers === "number" && maxWorkers <= 0) {
      return yield* badOption("maxWorkers", "greater than 0", maxWorkers)
    }
    const badMax = checkPositiveInt("maxWorkers", maxWorkers)
    if (badMax) return yield* badMax
    if (options.maxTasksPerChild !== undefined) {
      const bad = checkPositiveInt("maxTasksPerChild", options.maxTasksPerChild)
      if (bad) return yield* bad
    }
    const initializer = options.initializer
    if (initializer !== undefined && !isTask(initializer)) {
      return yield* badOption(
        "initializer",
        "a Task (Task.make(import.meta.url, name, fn)), since it runs in each worker",
        describe(initializer)
      )
    }
    const grace = decodeTimeout("interruptGrace", options.interruptGrace ?? "1 second")
    if (Cause.isIllegalArgumentError(grace)) return yield* grace
    const name = options.name ?? `${kind}Executor-${counts[kind]++}`
    if (typeof name !== "string") return yield* badOption("name", "a string", name)
    const context = yield* Effect.context<never>()
    const observer = new ExecutorObserver(kind, name)
    const pool = new WorkerPool({
      kind,
      maxWorkers,
      spawn,
      initializer:
        initializer === undefined
          ? undefined
          : { module: initializer.module, name: initializer.name, args: options.initargs ?? [] },
      maxTasksPerChild: options.maxTasksPerChild,
      interruptGraceMillis: Duration.toMillis(grace!),
      context,
      observer
    })
    // Added first, so the metrics go once the pool has closed.
    const unregister = observer.register(context, pool.gauges())
    yield* Effect.addFinalizer(() => Effect.sync(unregister))
    yield* Effect.addFinalizer((exit) => pool.close(exit))
    const notATask = (task: unknown) =>
      new Cause.IllegalArgumentError(
        `submit: a ${kind === "ProcessPool" ? "ProcessPoolExecutor" : "InterpreterPoolExecutor"} runs Tasks ` +
          `(Task.make(import.meta.url, name, fn)), since a worker must import the function; got ${describe(task)}`
      )
    const settle = (out: ReturnType<WorkerPool["submit"]>): Effect.Effect<any, any> =>
      out instanceof Error ? Effect.fail(out) : Effect.succeed(out)
    const submit = (task: unknown, ...args: Array<unknown>): Effect.Effect<any, any> =>
      isTask(task)
        ? Effect.withFiber((fiber) => settle(pool.submit(task, args, false, fiber.context)))
        : Effect.die(notATask(task))
    const service: WorkerExecutor = {
      kind,
      name,
      pool,
      submit: submit as Executor.Service["submit"],
      map: ((task: unknown, ...rest: Array<unknown>) =>
        isTask(task)
          ? mapWith(
              (args, context) => pool.submit(task, args, false, context) as Submitted,
              rest,
              (argsList, context) => pool.submit(task, argsList, true, context) as Submitted
            )
          : Stream.die(notATask(task))) as Executor.Service["map"],
      shutdown: (shutdownOptions) => pool.shutdown(shutdownOptions)
    }
    return service
  })
