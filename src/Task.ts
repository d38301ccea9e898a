/**
 * A task is a reference to an exported function of an importable module, the
 * way pickle sends functions by module and name: a worker imports the module
 * and calls the export. Defined in one line next to the function, a task runs
 * on every executor (in-process on the thread pool).
 *
 * A task module, which every worker imports, imports this module alone:
 * `import * as Task from "effect-futures/Task"` loads no executor and no
 * Effect, so a worker running plain functions starts in a few milliseconds
 * more than a bare thread or process. The package root's `Task` is the same
 * module.
 *
 * Stands where Python pickles a module-level function by reference.
 *
 * @since 0.1.0
 */

import type { Transferable } from "node:worker_threads"
import type * as Effect from "effect/Effect"
import type * as Schema from "effect/Schema"
import type { Failure, Success } from "./Executor.ts"
import { currentReporter } from "./internal/reporter.ts"
import { noteMaker } from "./internal/taskExports.ts"
import { signalKey, TransferTypeId } from "./internal/transfer.ts"

/**
 * The key under which every task carries its brand; `isTask` checks for it.
 *
 * Beyond Python.
 *
 * @example
 * ```ts
 * import { Task } from "effect-futures"
 *
 * export const square = Task.make(import.meta.url, "square", (n: number) => n * n)
 * Task.TypeId in square // true
 * ```
 *
 * @category type IDs
 * @since 0.1.0
 */
export const TypeId = "~effect-futures/Task" as const

/**
 * The type of `TypeId`.
 *
 * @category type IDs
 * @since 0.1.0
 */
export type TypeId = typeof TypeId

/**
 * A function that a worker can find by module URL and export name.
 *
 * Stands where Python pickles a module-level function by reference.
 *
 * @example
 * ```ts
 * import { Task } from "effect-futures"
 *
 * export const square: Task.Task<[n: number], number> = Task.make(import.meta.url, "square", (n: number) => n * n)
 * square.name // "square": the export a worker looks up in square.module
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface Task<in Args extends ReadonlyArray<unknown>, out A, out E = never> {
  readonly [TypeId]: TypeId
  /** The URL of the module that exports this task (its `import.meta.url`). */
  readonly module: string
  /** The name of the export. */
  readonly name: string
  /** The function itself. */
  readonly fn: (...args: Args) => A | PromiseLike<A> | Effect.Effect<A, E>
  /** Rebuilds the task's typed failures as class instances in the parent. */
  readonly error: Schema.Codec<E, unknown> | undefined
}

/**
 * Options of `make`.
 *
 * Beyond Python, where pickle finds exception classes by reference.
 *
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { Task } from "effect-futures"
 *
 * export class NotFound extends Schema.TaggedError<NotFound>()("NotFound", { key: Schema.String }) {}
 *
 * const options: Task.MakeOptions<NotFound> = { error: NotFound }
 * export const lookup = Task.make(import.meta.url, "lookup", (key: string) => Effect.fail(new NotFound({ key })), options)
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface MakeOptions<E> {
  /**
   * A Schema for the task's typed failures (e.g. a `Schema.TaggedError`
   * class, or a `Schema.Union` of them): the parent then gets real class
   * instances (`instanceof`, `catchTag`). Without one, a tagged error comes
   * back as an `Error` carrying its `_tag` and fields.
   */
  readonly error?: Schema.Codec<E, any> | undefined
}

/**
 * Returns `true` if the value is a `Task`.
 *
 * Beyond Python.
 *
 * @example
 * ```ts
 * import { Task } from "effect-futures"
 *
 * export const square = Task.make(import.meta.url, "square", (n: number) => n * n)
 * Task.isTask(square) // true
 * Task.isTask((n: number) => n * n) // false: a plain function runs only on a ThreadPoolExecutor
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isTask = (u: unknown): u is Task<ReadonlyArray<unknown>, unknown, unknown> =>
  ((typeof u === "object" && u !== null) || typeof u === "function") && TypeId in u

/**
 * Defines a task: the module's URL, the name it is exported under, and the
 * function. The function may return a value, a Promise or an Effect.
 *
 * Stands where Python pickles a module-level function by reference, which
 * needs no declaration.
 *
 * @example
 * ```ts
 * import { Task } from "effect-futures"
 *
 * export const isPrime = Task.make(import.meta.url, "isPrime", (n: number) => {
 *   for (let i = 2; i * i <= n; i++) if (n % i === 0) return false
 *   return n > 1
 * })
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = <Args extends ReadonlyArray<unknown>, T>(
  module: string,
  name: string,
  fn: (...args: Args) => T,
  options?: MakeOptions<Failure<T>>
): Task<Args, Success<T>, Failure<T>> => {
  const show = (u: unknown): string => (typeof u === "string" ? JSON.stringify(u) : String(u))
  if (typeof module !== "string" || !/^[a-z][a-z0-9+.-]*:/i.test(module)) {
    throw new TypeError(`Task.make: module must be a module URL such as import.meta.url, got ${show(module)}`)
  }
  if (typeof name !== "string" || name.length === 0) {
    throw new TypeError(`Task.make: name must be the export's name, got ${show(name)}`)
  }
  if (typeof fn !== "function") {
    throw new TypeError(`Task.make: the task ${name} of ${module} needs a function, got ${typeof fn}`)
  }
  const task: Task<Args, Success<T>, Failure<T>> = {
    [TypeId]: TypeId,
    module,
    name,
    fn: fn as any,
    error: options?.error
  }
  noteMaker(task)
  return task
}

/**
 * A value marked to cross to or from a worker with its buffers moved, not
 * copied (worker threads; child processes copy). Use it as a task argument or
 * return it from a task; the other side sees the plain value.
 *
 * Beyond Python, whose pools always pickle (copy) arguments and results.
 *
 * @example
 * ```ts
 * import { Task } from "effect-futures"
 *
 * const data = new Float64Array(1 << 17)
 * const arg = Task.transfer(data, [data.buffer])
 * ```
 *
 * @category transfer
 * @since 0.1.0
 */
export const transfer = <A>(value: A, list: ReadonlyArray<Transferable>): A =>
  ({ [TransferTypeId]: TransferTypeId, value, transfer: list }) as unknown as A

/**
 * The AbortSignal of the task now starting in this worker, fired when the
 * caller uses `Future.interrupt`. Read it synchronously at the start of the
 * task function; `undefined` outside a pool worker.
 *
 * Beyond Python, which cannot stop a running task.
 *
 * @example
 * ```ts
 * import { Task } from "effect-futures"
 *
 * export const poll = Task.make(import.meta.url, "poll", async (url: string) => {
 *   const signal = Task.signal() ?? null // undefined outside a pool worker
 *   return (await fetch(url, { signal })).status
 * })
 * ```
 *
 * @category interruption
 * @since 0.1.0
 */
export const signal = (): AbortSignal | undefined => (globalThis as any)[signalKey]

/**
 * Reports progress from inside a running task: the caller reads the values
 * with `Future.progress(future)` as a `Stream`. Works in a pool worker (the
 * value crosses as task results do, so it must be cloneable) and for a Task on
 * a `ThreadPoolExecutor`, from the function, the Promise it returns or the
 * Effect it returns. Returns `false` when called outside a task, where the
 * value goes nowhere.
 *
 * Beyond Python, whose futures carry no progress.
 *
 * @example
 * ```ts
 * import { Task } from "effect-futures"
 *
 * export const crunch = Task.make(import.meta.url, "crunch", (items: ReadonlyArray<number>) => {
 *   let sum = 0
 *   for (let i = 0; i < items.length; i++) {
 *     sum += items[i]
 *     if (i % 1000 === 0) Task.progress({ done: i, of: items.length })
 *   }
 *   return sum
 * })
 * ```
 *
 * @category progress
 * @since 0.1.0
 */
export const progress = (value: unknown): boolean => {
  const report = currentReporter()
  if (report === undefined) return false
  report(value)
  return true
}
