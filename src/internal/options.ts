/**
 * Validation of user-supplied options: each failure names the option, the
 * value and the rule, as CPython's `max_workers must be greater than 0`.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"

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
