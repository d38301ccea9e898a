/**
 * The tasks `executorSuite` runs, as plain functions of their arguments only,
 * and the typed error one of them fails with. No test runner is imported here,
 * so a worker-pool fixture can wrap each function with `Task.make` and a
 * worker can import this module.
 *
 * Mirrors the module-level helpers of CPython's
 * `Lib/test/test_concurrent_futures/executor.py` (`mul`, `divmod`, `time.sleep`).
 */
import { appendFileSync } from "node:fs"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"

/** The typed failure of `failWith`; a Schema error so it can cross a worker boundary. */
export class SuiteError extends Schema.TaggedError<SuiteError>()("SuiteError", {
  message: Schema.String
}) {}

/** `a + b`. */
export const add = (a: number, b: number): number => a + b

/** `a * b`. */
export const mul = (a: number, b: number): number => a * b

/** `a ** b`, CPython's `pow`. */
export const pow = (a: number, b: number): number => a ** b

/** `a / b` rounded down; throws a `RangeError` for `b === 0`, as Python's `ZeroDivisionError`. */
export const divide = (a: number, b: number): number => {
  if (b === 0) throw new RangeError("division by zero")
  return Math.floor(a / b)
}

/** Sleeps `ms` milliseconds, then returns `value`: CPython's `time.sleep`. */
export const sleepThenReturn = (ms: number, value: unknown): Promise<unknown> =>
  new Promise((resolve) => setTimeout(() => resolve(value), ms))

/** Fails with a typed `SuiteError` carrying `message`. */
export const failWith = (message: string): Effect.Effect<never, SuiteError> => Effect.fail(new SuiteError({ message }))

/**
 * Appends `value` as a line to `file` as soon as it starts, then sleeps `ms`
 * and returns `value`: the file counts the calls that ran, from any process.
 */
export const record = (file: string, value: number, ms: number): Promise<number> => {
  appendFileSync(file, `${value}\n`)
  return new Promise((resolve) => setTimeout(() => resolve(value), ms))
}
