/**
 * The failures nobody looked at: counted per executor, the first few kept, and reported once
 * when the executor ends (a warning, or the scope's defect with `failOnUnobserved`).
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import { type ExecutorKind, UnobservedFailures } from "../../Errors.ts"
import type * as core from "../future/state.ts"

/** How many unobserved failures keep their future, and so their cause, for the report. */
const keptUnobserved = 5

/**
 * An executor's failures that nobody looked at: every one counted, only the first few kept,
 * so a long-lived pool with fire-and-forget failures holds a bounded amount. A future looked
 * at later leaves the count (and the kept ones, if it was there).
 */
/** @internal */
export class Unobserved implements core.UnobservedRecord {
  count = 0
  readonly kept = new Set<core.FutureImpl<any, any>>()

  failed(f: core.FutureImpl<any, any>): void {
    this.count++
    if (this.kept.size < keptUnobserved) this.kept.add(f)
  }

  seen(f: core.FutureImpl<any, any>): void {
    this.count--
    this.kept.delete(f)
  }
}

/** The failure a future ended with, for the report. */
const causeOf = (f: core.FutureImpl<any, any>): Cause.Cause<unknown> => (f.exit as Exit.Failure<unknown, unknown>).cause

/** A failure in a line: its message where it has one. */
const describeFailure = (f: core.FutureImpl<any, any>): string => {
  const error = Cause.squash(causeOf(f))
  return error instanceof Error ? `${f}: ${error.message}` : `${f}: ${String(error)}`
}

/**
 * At the executor's end: the failures no one looked at, as one warning for the executor
 * (the count, then the first few with their causes), or as the scope's defect with
 * `failOnUnobserved`.
 */
/** @internal */
export const reportUnobserved = (
  kind: ExecutorKind,
  name: string,
  unobserved: Unobserved,
  fail: boolean
): Effect.Effect<void> =>
  Effect.suspend(() => {
    const count = unobserved.count
    const kept = [...unobserved.kept]
    unobserved.count = 0
    unobserved.kept.clear()
    if (count === 0) return Effect.void
    const summary =
      `${count} future${count === 1 ? "" : "s"} of the ${kind}Executor ${JSON.stringify(name)} failed and ` +
      `nobody looked at the failure (no result, exception, await, done callback or stream)`
    const first =
      kept.length === 0
        ? ""
        : `${count > kept.length ? `; the first ${kept.length}` : ""}: ${kept.map(describeFailure).join("; ")}`
    if (fail) {
      return Effect.die(
        new UnobservedFailures({
          kind,
          count,
          message: `${summary}${first}`,
          failures: kept.map((f) => Cause.squash(causeOf(f)))
        })
      )
    }
    return Effect.logWarning(`${summary}${first}`, ...kept.map(causeOf))
  })
