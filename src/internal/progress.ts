/**
 * Progress from inside a task, in-process (a Task on the thread pool): the
 * reporter travels with the call, in async context for the function and the
 * Promise it returns, in the fiber's context for an Effect. `reporter.ts`,
 * which `Task.progress` reads, holds the async context and the worker's
 * global; this module adds the fiber's part, which needs Effect.
 *
 * @internal
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { type Reporter, readFiberReporterWith, storage } from "./reporter.ts"

export type { Reporter } from "./reporter.ts"

const CurrentReporter = Context.Reference<Reporter | undefined>("effect-futures/Progress", {
  defaultValue: () => undefined
})

readFiberReporterWith(() => {
  const fiber = Fiber.getCurrent()
  return fiber === undefined ? undefined : Context.get(fiber.context, CurrentReporter)
})

/** `fn` with progress going to `report`: for its synchronous part, its Promise, and the Effect it returns. */
/** @internal */
export const bindProgress =
  (fn: (...args: Array<any>) => unknown, report: Reporter) =>
  (...args: Array<unknown>): unknown => {
    const out = storage.run(report, fn, ...args)
    return Effect.isEffect(out) ? Effect.provideService(out, CurrentReporter, report) : out
  }
