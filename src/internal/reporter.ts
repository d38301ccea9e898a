/**
 * Where `Task.progress(value)` finds the running call's progress reporter,
 * without Effect: in a pool worker, a global the worker sets (calls run one at
 * a time); in-process, async context for the function and the Promise it
 * returns, and the fiber's context for an Effect, which `progress.ts` (loaded
 * wherever a call is bound to a reporter) teaches this module to read. A task
 * module and a worker load only this.
 *
 * @internal
 */
import { AsyncLocalStorage } from "node:async_hooks"

/** Where progress of the running call goes. */
/** @internal */
export type Reporter = (value: unknown) => void

/** Where a worker puts its reporter; a global, so any copy of the package sees it. */
/** @internal */
export const progressKey = Symbol.for("effect-futures/progress")

/** The reporter of the in-process call whose function or Promise runs now. */
/** @internal */
export const storage = new AsyncLocalStorage<Reporter>()

/** Reads the reporter of the fiber running now: set by `progress.ts`, which binds calls to reporters. */
let fiberReporter: (() => Reporter | undefined) | undefined

/** @internal */
export const readFiberReporterWith = (read: () => Reporter | undefined): void => {
  fiberReporter = read
}

/** The running call's reporter, `undefined` outside a task. */
/** @internal */
export const currentReporter = (): Reporter | undefined =>
  storage.getStore() ?? fiberReporter?.() ?? (globalThis as any)[progressKey]
