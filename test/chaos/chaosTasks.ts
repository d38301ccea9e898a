/**
 * The chaos suite's tasks: fast, slow, failing and Effect-returning, each
 * with a result the ledger can check from its input alone, and the faults a
 * task can cause (its worker exiting). Workers import this module by URL, so
 * it only defines tasks: no top-level side effects, no test runner.
 */
import * as WorkerThreads from "node:worker_threads"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Task from "../../src/Task.ts"
import { after, sleepUnlessAborted } from "../fixtures/timers.ts"

/** The typed failure of `failTyped` and `effectFail`, rebuilt in the parent through its Schema. */
export class ChaosError extends Schema.TaggedError<ChaosError>()("ChaosError", {
  message: Schema.String,
  input: Schema.Number
}) {}

/** The error `throwDefect` throws: a defect, which crosses back as an `Error` with this name. */
export class ChaosDefect extends Error {
  override readonly name = "ChaosDefect"
}

/** What each successful kind returns for `x`: the ledger checks every result against these. */
export const expected = {
  fast: (x: number): number => x * 2 + 1,
  slow: (x: number): number => x * 3 + 2,
  abortable: (x: number): number => x * 5 + 3,
  effect: (x: number): number => x * 7 + 4,
  chatty: (x: number): number => x * 17 + 8
} as const

/** The size of `big`'s result for input `x`: 256 KiB to 1 MiB, more than a pipe holds at once. */
export const bigSize = (x: number): number => (256 << 10) * (1 + (x % 4))

/** Returns at once. */
export const fast = Task.make(import.meta.url, "fast", (x: number): number => expected.fast(x))

/** Sleeps `ms`, deaf to `Future.interrupt`: an interrupted one has its worker replaced. */
export const slow = Task.make(
  import.meta.url,
  "slow",
  (x: number, ms: number): Promise<number> => after(ms, () => expected.slow(x))
)

/** Sleeps `ms` unless `Task.signal()` fires first; then it rejects, which ends its future cancelled. */
export const abortable = Task.make(
  import.meta.url,
  "abortable",
  (x: number, ms: number): Promise<number> => sleepUnlessAborted(ms, () => expected.abortable(x))
)

/** An Effect: `Effect.sleep(ms)`, then the result; interruptible inside the worker. */
export const effect = Task.make(
  import.meta.url,
  "effect",
  (x: number, ms: number): Effect.Effect<number> => Effect.as(Effect.sleep(ms), expected.effect(x))
)

/** Fails at once with a typed `ChaosError`. */
export const failTyped = Task.make(
  import.meta.url,
  "failTyped",
  (x: number): Effect.Effect<never, ChaosError> => Effect.fail(new ChaosError({ message: `typed ${x}`, input: x })),
  { error: ChaosError }
)

/** An Effect that sleeps `ms`, then fails with a typed `ChaosError`. */
export const effectFail = Task.make(
  import.meta.url,
  "effectFail",
  (x: number, ms: number): Effect.Effect<never, ChaosError> =>
    Effect.andThen(Effect.sleep(ms), Effect.fail(new ChaosError({ message: `late ${x}`, input: x }))),
  { error: ChaosError }
)

/** Throws a `ChaosDefect` naming `x`. */
export const throwDefect = Task.make(import.meta.url, "throwDefect", (x: number): never => {
  throw new ChaosDefect(`defect ${x}`)
})

/**
 * Sends messages of its own to the parent, as libraries do that follow pm2's `process.send("ready")`
 * convention: a worker thread through `parentPort`, a child process on the IPC channel the pool uses.
 * The pool must ignore them.
 */
export const chatty = Task.make(import.meta.url, "chatty", (x: number): number => {
  if (!WorkerThreads.isMainThread) WorkerThreads.parentPort?.postMessage("ready")
  else if (process.send !== undefined) {
    process.send("ready")
    process.send({ hello: x })
    process.send({ _tag: "Done", replies: "not a list" })
  }
  return expected.chatty(x)
})

/** A large result (see `bigSize`), every byte `x % 251`: in a child process, more than one pipe write. */
export const big = Task.make(
  import.meta.url,
  "big",
  (x: number): Uint8Array => new Uint8Array(bigSize(x)).fill(x % 251)
)

/** The worker's process id, for the faults that kill a worker from outside. */
export const pid = Task.make(import.meta.url, "pid", (): number => process.pid)

/** Calls `process.exit(code)` `ms` after it starts: the worker dies. */
export const exitWorker = Task.make(
  import.meta.url,
  "exitWorker",
  (code: number, ms: number): Promise<never> => after(ms, () => process.exit(code))
)
