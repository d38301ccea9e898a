/**
 * A task as an in-process Effect: what the thread pool runs, and its initializer.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import { isPromiseLike } from "effect/Predicate"
import { isTask } from "../../Task.ts"
import { bindProgress, type Reporter } from "../progress.ts"
import { unwrap, unwrapAll } from "../transfer.ts"

/** A value's kind, for an error message. */
/** @internal */
export const describe = (u: unknown): string =>
  u === null ? "null" : typeof u === "object" ? `an object (${u.constructor?.name ?? "Object"})` : `a ${typeof u}`

/**
 * The task as an Effect: an Effect runs as it is; a function is called with
 * its arguments and what it returns (a value, a Promise or an Effect) becomes
 * the result. A throw or a rejection is a defect, stack kept.
 */
/** @internal */
export const toEffect = (
  task: unknown,
  args: ReadonlyArray<unknown>,
  report?: Reporter
): Effect.Effect<unknown, unknown, unknown> => {
  if (Effect.isEffect(task)) {
    if (args.length > 0) {
      return Effect.die(new Cause.IllegalArgumentError("submit: an Effect task takes no arguments; pass a function"))
    }
    return task
  }
  if (isTask(task)) {
    const fn = report === undefined ? task.fn : bindProgress(task.fn, report)
    return Effect.map(toEffect(fn, unwrapAll(args, [])), (value) => unwrap(value, []))
  }
  if (typeof task === "function") {
    return Effect.suspend(() => {
      const out = task(...args)
      if (Effect.isEffect(out)) return out
      if (isPromiseLike(out)) return Effect.promise(() => out)
      return Effect.succeed(out)
    })
  }
  return Effect.die(
    new Cause.IllegalArgumentError(`submit: a task must be an Effect, a function or a Task, got ${describe(task)}`)
  )
}
