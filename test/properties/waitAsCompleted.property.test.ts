/**
 * `Future.wait` and `Future.asCompleted` against a model of CPython's
 * `concurrent.futures._base` (`wait`, `as_completed` and their waiters):
 * futures start in any of the five states, a random script then completes,
 * fails, kills, runs, cancels and notifies them in any order, with clock
 * steps in between, and the input may repeat futures. After every step the
 * real waiter must have returned exactly when the model says, with the
 * model's partition or the model's sequence of yielded futures.
 *
 * Python's rules, as in `_base.py`:
 * - `wait` and `as_completed` take `set(fs)`: duplicates count once;
 * - only FINISHED and CANCELLED_AND_NOTIFIED count as done (a CANCELLED
 *   future waits for its executor to notice);
 * - FIRST_COMPLETED returns once any is done; FIRST_EXCEPTION once any has
 *   finished with an exception (a cancelled one is not an exception) or all
 *   are done; ALL_COMPLETED once all are done; a timeout returns the partition
 *   as it is then;
 * - `as_completed` yields the already-done futures first, then each future as
 *   it completes, and fails with `TimeoutError` (naming how many of how many
 *   are unfinished) when the timeout passes first.
 */
import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit, type Fiber, Stream } from "effect"
import { TestClock } from "effect/testing"
import * as fc from "fast-check"
import { Future } from "../../src/index.ts"
import { createFuture, OSError, type TestFuture } from "../fixtures/futures.ts"

type Outcome = "result" | "exception" | "cancelled"

/** Where a future starts: a state, and for FINISHED how it finished. */
type Initial =
  | "PENDING"
  | "RUNNING"
  | "CANCELLED"
  | "CANCELLED_AND_NOTIFIED"
  | "FINISHED_RESULT"
  | "FINISHED_EXCEPTION"
  | "FINISHED_DEFECT"

/** One step of the script. */
type Step =
  | { readonly _tag: "result" | "exception" | "defect" | "cancel" | "run"; readonly i: number }
  | { readonly _tag: "tick"; readonly millis: number }

// ----------------------------------------------------------------------------
// The model
// ----------------------------------------------------------------------------

interface ModelFuture {
  state: Future.State
  outcome: Outcome | undefined
}

const modelOf = (initial: Initial): ModelFuture => {
  switch (initial) {
    case "PENDING":
    case "RUNNING":
    case "CANCELLED":
    case "CANCELLED_AND_NOTIFIED":
      return { state: initial, outcome: initial.startsWith("CANCELLED") ? "cancelled" : undefined }
    case "FINISHED_RESULT":
      return { state: "FINISHED", outcome: "result" }
    case "FINISHED_EXCEPTION":
    case "FINISHED_DEFECT":
      return { state: "FINISHED", outcome: "exception" }
  }
}

/** Applies a step to the model; returns the index of the future that became done in `wait`'s eyes, if one did. */
const modelStep = (fs: Array<ModelFuture>, step: Step): number | undefined => {
  if (step._tag === "tick") return undefined
  const f = fs[step.i]!
  switch (step._tag) {
    case "result":
    case "exception":
    case "defect":
      if (f.state !== "PENDING" && f.state !== "RUNNING") return undefined
      f.state = "FINISHED"
      f.outcome = step._tag === "result" ? "result" : "exception"
      return step.i
    case "cancel":
      if (f.state === "PENDING") {
        f.state = "CANCELLED"
        f.outcome = "cancelled"
      }
      return undefined
    case "run":
      // setRunningOrNotifyCancel: PENDING runs, CANCELLED is notified, anything else is an error.
      if (f.state === "PENDING") f.state = "RUNNING"
      else if (f.state === "CANCELLED") {
        f.state = "CANCELLED_AND_NOTIFIED"
        return step.i
      }
      return undefined
  }
}

const notified = (f: ModelFuture): boolean => f.state === "FINISHED" || f.state === "CANCELLED_AND_NOTIFIED"

/** CPython's condition for `wait` to return, over the distinct futures. */
const waitSatisfied = (fs: ReadonlyArray<ModelFuture>, unique: ReadonlyArray<number>, when: Future.ReturnWhen) => {
  const done = unique.filter((i) => notified(fs[i]!))
  if (done.length === unique.length) return true
  switch (when) {
    case "FIRST_COMPLETED":
      return done.length > 0
    case "FIRST_EXCEPTION":
      return done.some((i) => fs[i]!.outcome === "exception")
    case "ALL_COMPLETED":
      return false
  }
}

// ----------------------------------------------------------------------------
// The real futures
// ----------------------------------------------------------------------------

/** A fresh future in `initial`, as CPython's `create_future` makes one; a defect is set on a fresh PENDING one. */
const makeFuture = (initial: Initial): Effect.Effect<TestFuture> => {
  switch (initial) {
    case "FINISHED_RESULT":
      return createFuture({ state: "FINISHED", result: 1 })
    case "FINISHED_EXCEPTION":
      return createFuture({ state: "FINISHED", exception: new OSError({ message: "initial" }) })
    case "FINISHED_DEFECT":
      return Effect.tap(createFuture(), (f) => Effect.orDie(Future.setExit(f, Exit.die(new Error("initial defect")))))
    default:
      return createFuture({ state: initial })
  }
}

/** Applies a step to the real futures; invalid transitions fail with InvalidStateError, which the model ignores too. */
const realStep = (fs: ReadonlyArray<TestFuture>, step: Step): Effect.Effect<void> => {
  if (step._tag === "tick") return TestClock.adjust(step.millis)
  const f = fs[step.i]!
  switch (step._tag) {
    case "result":
      return Effect.ignore(Future.setResult(f, step.i))
    case "exception":
      return Effect.ignore(Future.setException(f, new OSError({ message: `step ${step.i}` })))
    case "defect":
      return Effect.ignore(Future.setExit(f, Exit.die(new Error(`step ${step.i}`))))
    case "cancel":
      return Effect.asVoid(Future.cancel(f))
    case "run":
      return Effect.ignore(Future.setRunningOrNotifyCancel(f))
  }
}

/** Lets woken fibers run: enough yields for a waiter to resume and finish. */
const settle = Effect.repeat(Effect.yieldNow, { times: 20 })

/** The fiber's exit once it has ended, polling with yields only (the clock is a TestClock). */
const joinSoon = <A, E>(fiber: Fiber.Fiber<A, E>, what: string) =>
  Effect.gen(function* () {
    for (let i = 0; i < 200; i++) {
      const exit = fiber.pollUnsafe()
      if (exit !== undefined) return exit
      yield* Effect.yieldNow
    }
    return expect.fail(`${what} should have returned by now`)
  })

// ----------------------------------------------------------------------------
// Arbitraries
// ----------------------------------------------------------------------------

const initialArb: fc.Arbitrary<Initial> = fc.oneof(
  { arbitrary: fc.constant("PENDING" as const), weight: 6 },
  { arbitrary: fc.constant("RUNNING" as const), weight: 3 },
  fc.constant("CANCELLED" as const),
  fc.constant("CANCELLED_AND_NOTIFIED" as const),
  fc.constant("FINISHED_RESULT" as const),
  fc.constant("FINISHED_EXCEPTION" as const),
  fc.constant("FINISHED_DEFECT" as const)
)

const stepArb = (n: number): fc.Arbitrary<Step> =>
  fc.oneof(
    { arbitrary: fc.integer({ min: 0, max: n - 1 }).map((i) => ({ _tag: "result", i }) as const), weight: 3 },
    { arbitrary: fc.integer({ min: 0, max: n - 1 }).map((i) => ({ _tag: "exception", i }) as const), weight: 2 },
    fc.integer({ min: 0, max: n - 1 }).map((i) => ({ _tag: "defect", i }) as const),
    { arbitrary: fc.integer({ min: 0, max: n - 1 }).map((i) => ({ _tag: "cancel", i }) as const), weight: 2 },
    { arbitrary: fc.integer({ min: 0, max: n - 1 }).map((i) => ({ _tag: "run", i }) as const), weight: 2 },
    fc.integer({ min: 1, max: 40 }).map((millis) => ({ _tag: "tick", millis }) as const)
  )

/** Futures, the input list (indices, with repeats, in any order), the script and a timeout. */
const scenarioArb = fc.array(initialArb, { minLength: 1, maxLength: 6 }).chain((initials) =>
  fc.record({
    initials: fc.constant(initials),
    input: fc.array(fc.integer({ min: 0, max: initials.length - 1 }), { minLength: 0, maxLength: 10 }),
    steps: fc.array(stepArb(initials.length), { maxLength: 20 }),
    timeout: fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined })
  })
)

const returnWhenArb = fc.constantFrom<Future.ReturnWhen>(
  Future.FIRST_COMPLETED,
  Future.FIRST_EXCEPTION,
  Future.ALL_COMPLETED
)

const distinct = (input: ReadonlyArray<number>): Array<number> => [...new Set(input)]

const sorted = (xs: Iterable<number>): Array<number> => [...xs].sort((a, b) => a - b)

// ----------------------------------------------------------------------------
// Properties
// ----------------------------------------------------------------------------

describe("wait and asCompleted (property, against CPython's rules)", () => {
  it.live("wait returns exactly when its returnWhen or timeout says, with the partition at that moment", () =>
    Effect.promise(() =>
      fc.assert(
        fc.asyncProperty(scenarioArb, returnWhenArb, ({ initials, input, steps, timeout }, returnWhen) =>
          Effect.runPromise(
            Effect.gen(function* () {
              const fs = yield* Effect.forEach(initials, makeFuture)
              const model = initials.map(modelOf)
              const unique = distinct(input)
              const indexOf = (f: TestFuture) => fs.indexOf(f)
              const expectPartition = (exit: Exit.Exit<Future.DoneAndNotDone<TestFuture>>, when: string) => {
                expect(Exit.isSuccess(exit), `wait failed ${when}`).toBe(true)
                const { done, notDone } = (exit as Exit.Success<Future.DoneAndNotDone<TestFuture>>).value
                expect(sorted([...done].map(indexOf)), `done ${when}`).toEqual(
                  sorted(unique.filter((i) => notified(model[i]!)))
                )
                expect(sorted([...notDone].map(indexOf)), `notDone ${when}`).toEqual(
                  sorted(unique.filter((i) => !notified(model[i]!)))
                )
              }
              const waiting = yield* Effect.forkChild(
                Future.wait(
                  input.map((i) => fs[i]!),
                  timeout === undefined ? { returnWhen } : { returnWhen, timeout }
                ),
                { startImmediately: true }
              )
              let elapsed = 0
              const returns = () =>
                waitSatisfied(model, unique, returnWhen) || (timeout !== undefined && elapsed >= timeout)
              if (returns()) {
                expectPartition(yield* joinSoon(waiting, "wait"), "at once")
                return
              }
              for (const [k, step] of steps.entries()) {
                modelStep(model, step)
                if (step._tag === "tick") elapsed += step.millis
                yield* realStep(fs, step)
                yield* settle
                if (returns()) {
                  expectPartition(yield* joinSoon(waiting, "wait"), `after step ${k} ${JSON.stringify(step)}`)
                  return
                }
                expect(waiting.pollUnsafe(), `wait returned early, after step ${k}`).toBeUndefined()
              }
            }).pipe(Effect.provide(TestClock.layer()))
          )
        ),
        { numRuns: 300 }
      )
    )
  )

  it.live("asCompleted yields the done futures first, then each as it completes, once, or fails on timeout", () =>
    Effect.promise(() =>
      fc.assert(
        fc.asyncProperty(scenarioArb, ({ initials, input, steps, timeout }) =>
          Effect.runPromise(
            Effect.gen(function* () {
              const fs = yield* Effect.forEach(initials, makeFuture)
              const model = initials.map(modelOf)
              const unique = distinct(input)
              const initiallyDone = unique.filter((i) => notified(model[i]!))
              const completions: Array<number> = []
              const yielded: Array<number> = []
              const streaming = yield* Effect.forkChild(
                Stream.runForEach(
                  Future.asCompleted(
                    input.map((i) => fs[i]!),
                    timeout === undefined ? undefined : { timeout }
                  ),
                  (f) => Effect.sync(() => yielded.push(fs.indexOf(f)))
                ),
                { startImmediately: true }
              )
              let elapsed = 0
              const check = (when: string) => {
                // The already-done ones first, in any order (Python's set); then completion order exactly.
                expect(sorted(yielded.slice(0, initiallyDone.length)), `first yields ${when}`).toEqual(
                  sorted(initiallyDone)
                )
                expect(yielded.slice(initiallyDone.length), `later yields ${when}`).toEqual(completions)
              }
              const unfinished = () => unique.filter((i) => !notified(model[i]!)).length
              const expectEnd = (exit: Exit.Exit<void, Cause.TimeoutError>, when: string) => {
                check(when)
                if (unfinished() === 0) {
                  expect(Exit.isSuccess(exit), `asCompleted should end ${when}`).toBe(true)
                  return
                }
                expect(Exit.isFailure(exit), `asCompleted should fail with TimeoutError ${when}`).toBe(true)
                const error = Cause.squash((exit as Exit.Failure<void, Cause.TimeoutError>).cause)
                expect(Cause.isTimeoutError(error)).toBe(true)
                expect((error as Cause.TimeoutError).message).toBe(
                  `${unfinished()} (of ${unique.length}) futures unfinished`
                )
              }
              const ends = () => unfinished() === 0 || (timeout !== undefined && elapsed >= timeout)
              yield* settle
              if (ends()) {
                expectEnd(yield* joinSoon(streaming, "asCompleted"), "at once")
                return
              }
              for (const [k, step] of steps.entries()) {
                const completed = modelStep(model, step)
                if (completed !== undefined && unique.includes(completed)) completions.push(completed)
                if (step._tag === "tick") elapsed += step.millis
                yield* realStep(fs, step)
                yield* settle
                const when = `after step ${k} ${JSON.stringify(step)}`
                if (ends()) {
                  expectEnd(yield* joinSoon(streaming, "asCompleted"), when)
                  return
                }
                check(when)
                expect(streaming.pollUnsafe(), `asCompleted ended early, ${when}`).toBeUndefined()
              }
            }).pipe(Effect.provide(TestClock.layer()))
          )
        ),
        { numRuns: 300 }
      )
    )
  )
})
