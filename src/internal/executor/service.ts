/**
 * An executor's service, built once for every pool: its metrics registered for the pool's
 * life, the scope's close (shutdown, then the report of failures nobody looked at), and
 * `submit`, `submitWith` and `map` over the pool's synchronous submit.
 *
 * @internal
 */
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { ExecutorKind } from "../../Errors.ts"
import type * as Executor from "../../Executor.ts"
import { FutureImpl } from "../future/state.ts"
import type { ExecutorObserver, PoolGauges } from "../observe.ts"
import { settleSubmit } from "../policy/admission.ts"
import { makeSubmitWith } from "../policy/attempt.ts"
import type { TaskPolicy } from "../policy/options.ts"
import { reportUnobserved, type Unobserved } from "../policy/unobserved.ts"
import { localPacing, type MapPacing, mapWith, type Submitted } from "./map.ts"

/** What the service needs of a pool. */
/** @internal */
export interface ServedPool {
  readonly unobserved: Unobserved
  /** The pool's synchronous submit: a future, why it refused, or the admission to wait on. */
  submit(
    task: unknown,
    args: ReadonlyArray<unknown>,
    context: Context.Context<never>,
    policy: TaskPolicy | undefined
  ): Submitted
  /** `map`'s submit of one call, for a caller that only wants the outcome: a call that ended at once may give its Exit. */
  call(task: unknown, args: ReadonlyArray<unknown>, context: Context.Context<never>): Submitted
  /** `map`'s submit of a chunk of calls (`chunksize`) as one unit, where the pool sends chunks whole. */
  readonly callChunk?:
    | ((
        task: unknown,
        argsList: ReadonlyArray<ReadonlyArray<unknown>>,
        context: Context.Context<never>,
        first: number
      ) => Submitted)
    | undefined
  /** `maxWorkers`, which sizes an untuned `map`'s window, and how untuned `map` paces the pool (default `localPacing`). */
  readonly config: { readonly maxWorkers: number; readonly mapPacing?: MapPacing | undefined }
  shutdown(options: Executor.ShutdownOptions | undefined): Effect.Effect<void>
  close(exit: Exit.Exit<unknown, unknown>): Effect.Effect<void>
  gauges(): PoolGauges
}

/** @internal */
export interface ServiceOptions {
  readonly kind: ExecutorKind
  readonly name: string
  readonly pool: ServedPool
  readonly observer: ExecutorObserver
  readonly context: Context.Context<never>
  readonly failOnUnobserved: boolean
  /**
   * A check of the task before anything else, whatever the pool's state: `undefined` when it may
   * go on, else an Effect that dies with the mistake, or that waits for the check to finish
   * (then the call is made again).
   */
  readonly check?: ((call: "submit" | "map", task: unknown) => Effect.Effect<unknown> | undefined) | undefined
}

/** @internal */
export const makeService = (options: ServiceOptions): Effect.Effect<Executor.Service, never, Scope.Scope> =>
  Effect.gen(function* () {
    const { check, kind, name, observer, pool } = options
    // Added first, so the metrics go once the pool has closed.
    const unregister = observer.register(options.context, pool.gauges())
    yield* Effect.addFinalizer(() => Effect.sync(unregister))
    yield* Effect.addFinalizer((exit) =>
      Effect.andThen(pool.close(exit), reportUnobserved(kind, name, pool.unobserved, options.failOnUnobserved))
    )
    const submitPolicy = (task: unknown, args: Array<unknown>, policy?: TaskPolicy): Effect.Effect<any, any> => {
      const checked = check?.("submit", task)
      if (checked !== undefined) return Effect.andThen(checked, () => submitPolicy(task, args, policy))
      return Effect.withFiber((fiber) => {
        const out = pool.submit(task, args, fiber.context, policy)
        // The usual answer, a future, needs no way to try again: that way is made only when needed.
        return out instanceof FutureImpl ? Exit.succeed(out) : settleLater(out, task, args, fiber.context, policy)
      })
    }
    const settleLater = (
      out: Submitted,
      task: unknown,
      args: Array<unknown>,
      context: Context.Context<never>,
      policy: TaskPolicy | undefined
    ): Effect.Effect<any, any> => settleSubmit(out, () => pool.submit(task, args, context, policy), policy?.signal)
    const map = (task: unknown, ...rest: Array<unknown>): Stream.Stream<unknown, unknown> => {
      const checked = check?.("map", task)
      if (checked !== undefined)
        return Stream.unwrap(
          Effect.andThen(
            checked,
            Effect.sync(() => map(task, ...rest))
          )
        )
      return mapWith(
        {
          submit: (args, context) => pool.call(task, args, context),
          submitChunk:
            pool.callChunk === undefined
              ? undefined
              : (argsList, context, first) => pool.callChunk!(task, argsList, context, first),
          maxWorkers: pool.config.maxWorkers,
          pacing: pool.config.mapPacing ?? localPacing
        },
        rest
      )
    }
    const service: Executor.Service = {
      kind,
      name,
      submit: ((task: unknown, ...args: Array<unknown>) => submitPolicy(task, args)) as Executor.Service["submit"],
      submitWith: makeSubmitWith(submitPolicy) as Executor.Service["submitWith"],
      map: map as Executor.Service["map"],
      shutdown: (shutdownOptions) => pool.shutdown(shutdownOptions)
    }
    return service
  })
