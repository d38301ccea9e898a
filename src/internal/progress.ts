/**
 * Progress from inside a task: `Task.progress(value)` finds where the running
 * call's progress goes. In a pool worker calls run one at a time, so the
 * worker keeps one reporter in a global; in-process (a Task on the thread
 * pool) the reporter travels with the call, in async context for the
 * function and the Promise it returns, in the fiber's context for an Effect.
 *
 * @internal
 */
import { AsyncLocalStorage } from "node:async_hooks"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"

/** Where progress of the running call goes. */
/** @internal */
export type Reporter = (value: unknown) => void

/** Where a worker puts its reporter; a global, so any copy of the package sees it. */
/** @internal */
export const progressKey = Symbol.for("effect-futures/progress")

const storage = new AsyncLocalStorage<Reporter>()

const CurrentReporter = Context.Reference<Reporter | undefined>("effect-futures/Progress", {
  defaultValue: () => undefined
})

/** `fn` with progress going to `report`: for its synchronous part, its Promise, and the Effect it returns. */
/** @internal */
export const bindProgress =
  (fn: (...args: Array<any>) => unknown, report: Reporter) =>
  (...args: Array<unknown>): unknown => {
    const out = storage.run(report, fn, ...args)
    return Effect.isEffect(out) ? Effect.provideService(out, CurrentReporter, report) : out
  }

/** The running call's reporter, `undefined` outside a task. */
/** @internal */
export const currentReporter = (): Reporter | undefined =>
  storage.getStore() ??
  (() => {
    const fiber = Fiber.getCurrent()
    return fiber === undefined ? undefined : Context.get(fiber.context, CurrentReporter)
  })() ??
  (globalThis as any)[progressKey]
