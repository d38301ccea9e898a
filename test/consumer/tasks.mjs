/**
 * Tasks for the consumer project's smoke script: plain JavaScript importing
 * effect-futures by its package name, as an app that installed the tarball
 * would. Every worker imports this module, so it only defines tasks, and
 * imports `effect-futures/Task` alone.
 */
import { Effect, Schema } from "effect"
import * as Task from "effect-futures/Task"

/** `n * n`. */
export const square = Task.make(import.meta.url, "square", (n) => n * n)

/** The process the task ran in, so the smoke script can check that no worker process is left. */
export const pid = Task.make(import.meta.url, "pid", () => process.pid)

/** The typed failure `fail` ends with, rebuilt as this class in the parent through its Schema. */
export class Oops extends Schema.TaggedError()("Oops", { code: Schema.Number }) {}

/** Fails with a typed `Oops`. */
export const fail = Task.make(import.meta.url, "fail", (code) => Effect.fail(new Oops({ code })), { error: Oops })

/**
 * Reports `"started"` through `Task.progress`, then waits until `Future.interrupt`: in a worker
 * that fires `Task.signal()`, on which the task rejects as `fetch` does; on a thread pool, which
 * has no signal, it interrupts the fiber awaiting the Promise. Holds no timer, so a task left
 * running cannot keep a runtime alive.
 */
export const waitForInterrupt = Task.make(import.meta.url, "waitForInterrupt", () => {
  const signal = Task.signal()
  Task.progress("started")
  return new Promise((_, reject) => signal?.addEventListener("abort", () => reject(signal.reason)))
})
