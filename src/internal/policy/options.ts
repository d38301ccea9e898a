/**
 * Validation of user-supplied options: each failure names the option, the
 * value and the rule, as CPython's `max_workers must be greater than 0`.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import type { PoolOptions, SubmitOptions } from "../../Executor.ts"

const show = (u: unknown): string => {
  if (typeof u === "string") return JSON.stringify(u)
  if (typeof u === "bigint") return `${u}n`
  if (typeof u === "function") return `a function`
  if (typeof u === "object" && u !== null) {
    try {
      return JSON.stringify(u)
    } catch {
      return Object.prototype.toString.call(u)
    }
  }
  return String(u)
}

/** The message for a bad option: `<name> must be <rule>, got <value>`. */
/** @internal */
export const badOption = (name: string, rule: string, value: unknown): Cause.IllegalArgumentError =>
  new Cause.IllegalArgumentError(`${name} must be ${rule}, got ${show(value)}`)

/**
 * An executor's `make`, its option errors named by the executor's class, as in
 * `InterpreterPoolExecutor: maxWorkers must be greater than 0, got 0`.
 */
/** @internal */
export const namingOptionErrors =
  (owner: string) =>
  <A, R>(make: Effect.Effect<A, Cause.IllegalArgumentError, R>): Effect.Effect<A, Cause.IllegalArgumentError, R> =>
    Effect.mapError(make, (error) => new Cause.IllegalArgumentError(`${owner}: ${error.message}`))

/** `undefined` when valid, else the error: a whole number greater than 0. */
/** @internal */
export const checkPositiveInt = (name: string, value: unknown): Cause.IllegalArgumentError | undefined =>
  typeof value === "number" && Number.isInteger(value) && value > 0
    ? undefined
    : badOption(name, "a whole number greater than 0", value)

/** `maxWorkers`, as CPython checks `max_workers`: `undefined` when valid, else the error. */
/** @internal */
export const checkMaxWorkers = (value: unknown): Cause.IllegalArgumentError | undefined =>
  typeof value === "number" && value <= 0
    ? badOption("maxWorkers", "greater than 0", value)
    : checkPositiveInt("maxWorkers", value)

/** An executor's `name` (default `fallback()`, taken only when none is given), or the error. */
/** @internal */
export const checkName = (value: unknown, fallback: () => string): string | Cause.IllegalArgumentError => {
  const name = value ?? fallback()
  return typeof name === "string" ? name : badOption("name", "a string", name)
}

/** Decodes a timeout; `undefined` stays `undefined` (wait forever). */
/** @internal */
export const decodeTimeout = (
  name: string,
  input: Duration.Input | undefined
): Duration.Duration | undefined | Cause.IllegalArgumentError => {
  if (input === undefined) return undefined
  let duration: Duration.Duration
  try {
    duration = Duration.fromInputUnsafe(input)
  } catch {
    return badOption(name, 'a Duration.Input such as "2 seconds" or 500 (milliseconds)', input)
  }
  if (typeof input === "number" && Number.isNaN(input)) {
    return badOption(name, "a number of milliseconds", input)
  }
  if (Duration.isNegative(duration)) return badOption(name, "zero or more", input)
  return duration
}

/**
 * Runs `f` with a decoded timeout; a bad timeout is a defect carrying an
 * `IllegalArgumentError`, since it is a mistake in the calling code.
 */
/** @internal */
export const withTimeout = <A, E, R>(
  name: string,
  input: Duration.Input | undefined,
  f: (timeout: Duration.Duration | undefined) => Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> =>
  Effect.suspend(() => {
    const timeout = decodeTimeout(name, input)
    return Cause.isIllegalArgumentError(timeout) ? Effect.die(timeout) : f(timeout)
  })

/** A task's options, checked. */
/** @internal */
export interface TaskPolicy {
  readonly priority: number
  readonly timeout: Duration.Duration | undefined
  readonly retries: Schedule.Schedule<unknown, unknown> | undefined
  readonly signal: AbortSignal | undefined
}

/** Checks `submitWith`'s options: each mistake names the option, the value and the rule. */
/** @internal */
export const checkSubmitOptions = (options: SubmitOptions): TaskPolicy | Cause.IllegalArgumentError => {
  if (typeof options !== "object" || options === null) {
    return badOption("submitWith: options", "an object such as { priority: 1 }", options)
  }
  const priority = options.priority ?? 0
  if (typeof priority !== "number" || !Number.isFinite(priority)) {
    return badOption("submitWith: priority", "a finite number (higher runs first, default 0)", priority)
  }
  const timeout = decodeTimeout("submitWith: timeout", options.timeout)
  if (Cause.isIllegalArgumentError(timeout)) return timeout
  const retries = options.retries
  let schedule: Schedule.Schedule<unknown, unknown> | undefined
  if (typeof retries === "number") {
    if (!Number.isInteger(retries) || retries < 0) {
      return badOption("submitWith: retries", "a whole number of retries (0 or more) or a Schedule", retries)
    }
    schedule = retries === 0 ? undefined : Schedule.recurs(retries)
  } else if (retries !== undefined) {
    if (!Schedule.isSchedule(retries)) {
      return badOption("submitWith: retries", "a whole number of retries (0 or more) or a Schedule", retries)
    }
    schedule = retries as Schedule.Schedule<unknown, unknown>
  }
  const signal = options.signal
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    return badOption("submitWith: signal", "an AbortSignal", signal)
  }
  return { priority, timeout, retries: schedule, signal }
}

/** The pool-wide options beyond Python, checked. */
/** @internal */
export interface PoolPolicy {
  readonly maxQueue: number | undefined
  readonly whenFull: "suspend" | "reject"
  readonly failOnUnobserved: boolean
}

/** @internal */
export const checkPoolOptions = (options: PoolOptions): PoolPolicy | Cause.IllegalArgumentError => {
  const maxQueue = options.maxQueue
  if (maxQueue !== undefined && !(typeof maxQueue === "number" && Number.isInteger(maxQueue) && maxQueue >= 0)) {
    return badOption("maxQueue", "a whole number of pending tasks (0 or more)", maxQueue)
  }
  const whenFull = options.whenFull ?? "suspend"
  if (whenFull !== "suspend" && whenFull !== "reject") {
    return badOption("whenFull", '"suspend" or "reject"', whenFull)
  }
  const failOnUnobserved = options.failOnUnobserved ?? false
  if (typeof failOnUnobserved !== "boolean") return badOption("failOnUnobserved", "a boolean", failOnUnobserved)
  return { maxQueue, whenFull, failOnUnobserved }
}
