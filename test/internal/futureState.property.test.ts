/**
 * Property tests of the future state machine against a small pure model of
 * CPython's `_base.Future`: random sequences of operations on one future, then
 * racing fibers whose outcomes must match some sequential order of the same
 * operations, then racing cancels against a real thread pool.
 */
import { describe, expect, it } from "@effect/vitest"
import { Cause, Data, Effect, Exit, Fiber, Latch, Logger, Stream } from "effect"
import * as fc from "fast-check"
import { CancelledError, Future, InvalidStateError, ThreadPoolExecutor } from "../../src/index.ts"

class OSError extends Data.TaggedError("OSError")<{ readonly message: string }> {}

type State = Future.State

/** How a done callback behaves: returns nothing, returns an Effect, throws, or returns a failing Effect. */
type CallbackKind = "sync" | "effect" | "throws" | "fails"

type Op =
  | { readonly _tag: "cancel" }
  | { readonly _tag: "interrupt" }
  | { readonly _tag: "setRunningOrNotifyCancel" }
  | { readonly _tag: "setResult"; readonly value: number }
  | { readonly _tag: "setException"; readonly message: string }
  | { readonly _tag: "addDoneCallback"; readonly kind: CallbackKind }

/** What an operation gave back: a boolean, `"ok"` for a void success, or the tag of its typed failure. */
type Output = boolean | "ok" | "InvalidStateError"

// ----------------------------------------------------------------------------
// The model: CPython's `_base.Future` with its states and callback list.
// ----------------------------------------------------------------------------

interface Model {
  state: State
  outcome:
    | { readonly _tag: "result"; readonly value: number }
    | { readonly _tag: "exception"; readonly message: string }
    | { readonly _tag: "cancelled" }
    | undefined
  /** Callbacks added and not yet run: their ids and kinds. */
  queued: Array<{ readonly id: number; readonly kind: CallbackKind }>
  /** Callbacks run, in order, with the state each one saw. */
  ran: Array<readonly [number, State]>
  /** Callbacks that failed, each of which must leave one error log line. */
  failures: number
  nextId: number
}

const initialModel = (): Model => ({
  state: "PENDING",
  outcome: undefined,
  queued: [],
  ran: [],
  failures: 0,
  nextId: 0
})

const cloneModel = (m: Model): Model => ({ ...m, queued: [...m.queued], ran: [...m.ran] })

const isDone = (s: State): boolean => s === "CANCELLED" || s === "CANCELLED_AND_NOTIFIED" || s === "FINISHED"

/** What `wait`/`asCompleted` count as done: CPython's `[CANCELLED_AND_NOTIFIED, FINISHED]`. */
const isNotified = (s: State): boolean => s === "CANCELLED_AND_NOTIFIED" || s === "FINISHED"

const runCallback = (m: Model, cb: { readonly id: number; readonly kind: CallbackKind }): void => {
  m.ran.push([cb.id, m.state])
  if (cb.kind === "throws" || cb.kind === "fails") m.failures++
}

const runQueued = (m: Model): void => {
  const queued = m.queued
  m.queued = []
  for (const cb of queued) runCallback(m, cb)
}

/** One operation on the model, as CPython's `Future` methods; a bare future has nothing to interrupt, so `interrupt` is `cancel`. */
const step = (m: Model, op: Op): Output => {
  switch (op._tag) {
    case "cancel":
    case "interrupt":
      if (m.state === "RUNNING" || m.state === "FINISHED") return false
      if (m.state === "PENDING") {
        m.state = "CANCELLED"
        m.outcome = { _tag: "cancelled" }
        runQueued(m)
      }
      return true
    case "setRunningOrNotifyCancel":
      if (m.state === "PENDING") {
        m.state = "RUNNING"
        return true
      }
      if (m.state === "CANCELLED") {
        m.state = "CANCELLED_AND_NOTIFIED"
        return false
      }
      return "InvalidStateError"
    case "setResult":
    case "setException":
      if (m.state !== "PENDING" && m.state !== "RUNNING") return "InvalidStateError"
      m.state = "FINISHED"
      m.outcome =
        op._tag === "setResult" ? { _tag: "result", value: op.value } : { _tag: "exception", message: op.message }
      runQueued(m)
      return "ok"
    case "addDoneCallback": {
      const cb = { id: m.nextId++, kind: op.kind }
      if (isDone(m.state)) runCallback(m, cb)
      else m.queued.push(cb)
      return "ok"
    }
  }
}

// ----------------------------------------------------------------------------
// The real thing.
// ----------------------------------------------------------------------------

type TestFuture = Future.Future<number, OSError>

/** The state a future's repr shows, read synchronously inside plain callbacks. */
const stateNow = (f: TestFuture): State => (f as unknown as { toJSON(): { state: State } }).toJSON().state

interface Harness {
  readonly f: TestFuture
  /** Callbacks run, in order, with the state each one saw. */
  readonly ran: Array<readonly [number, State]>
  nextId: number
}

const makeCallback =
  (h: Harness, id: number, kind: CallbackKind) =>
  (g: TestFuture): Effect.Effect<void, OSError> | void => {
    expect(g).toBe(h.f)
    switch (kind) {
      case "sync":
        h.ran.push([id, stateNow(g)])
        return
      case "throws":
        h.ran.push([id, stateNow(g)])
        throw new Error(`callback ${id} throws`)
      case "effect":
        return Effect.flatMap(Future.state(g), (s) => Effect.sync(() => h.ran.push([id, s])))
      case "fails":
        return Effect.flatMap(Future.state(g), (s) =>
          Effect.andThen(
            Effect.sync(() => h.ran.push([id, s])),
            Effect.fail(new OSError({ message: `callback ${id} fails` }))
          )
        )
    }
  }

/** Runs one operation on the real future and reports its output as the model does. */
const run = (h: Harness, op: Op): Effect.Effect<Output> => {
  const f = h.f
  const tagged = <E extends { readonly _tag: string }>(self: Effect.Effect<boolean | void, E>): Effect.Effect<Output> =>
    Effect.match(self, {
      onFailure: (e) => {
        expect(e).toBeInstanceOf(InvalidStateError)
        expect(e._tag).toBe("InvalidStateError")
        return "InvalidStateError" as const
      },
      onSuccess: (out) => (out === undefined ? ("ok" as const) : out)
    })
  switch (op._tag) {
    case "cancel":
      return Future.cancel(f)
    case "interrupt":
      return Future.interrupt(f)
    case "setRunningOrNotifyCancel":
      return tagged(Future.setRunningOrNotifyCancel(f))
    case "setResult":
      return tagged(Future.setResult(f, op.value))
    case "setException":
      return tagged(Future.setException(f, new OSError({ message: op.message })))
    case "addDoneCallback":
      return Effect.as(Future.addDoneCallback(f, makeCallback(h, h.nextId++, op.kind)), "ok" as const)
  }
}

/** Checks everything observable about the future against the model. */
const checkAgainst = (h: Harness, m: Model, logs: ReadonlyArray<string>): Effect.Effect<void> =>
  Effect.gen(function* () {
    const f = h.f
    expect(yield* Future.state(f)).toBe(m.state)
    expect(yield* Future.done(f)).toBe(isDone(m.state))
    expect(yield* Future.cancelled(f)).toBe(m.state === "CANCELLED" || m.state === "CANCELLED_AND_NOTIFIED")
    expect(yield* Future.running(f)).toBe(m.state === "RUNNING")
    expect(h.ran).toEqual(m.ran)
    expect(logs).toHaveLength(m.failures)
    if (!isDone(m.state)) return
    const exit = yield* Future.await(f).pipe(Effect.timeout("1 second"), Effect.orDie)
    const outcome = m.outcome!
    if (outcome._tag === "result") {
      expect(exit).toEqual(Exit.succeed(outcome.value))
    } else {
      expect(Exit.isFailure(exit)).toBe(true)
      const error = Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined
      if (outcome._tag === "exception") {
        expect(error).toBeInstanceOf(OSError)
        expect((error as OSError).message).toBe(outcome.message)
      } else {
        expect(error).toBeInstanceOf(CancelledError)
      }
    }
  })

/** `wait` with a zero timeout sees the future done exactly when the model says it was notified. */
const checkWait = (h: Harness, m: Model): Effect.Effect<void> =>
  Effect.map(Future.wait([h.f], { timeout: 0 }), ({ done, notDone }) => {
    expect(done.has(h.f)).toBe(isNotified(m.state))
    expect(notDone.has(h.f)).toBe(!isNotified(m.state))
  })

/** Captures error log lines (the failing callbacks') instead of printing them. */
const withLogs = <A, E, R>(self: (logs: ReadonlyArray<string>) => Effect.Effect<A, E, R>): Effect.Effect<A, E, R> => {
  const logs: Array<string> = []
  const logger = Logger.make((options) => {
    logs.push(`${options.logLevel} ${String(options.message)}`)
  })
  return Effect.provideService(self(logs), Logger.CurrentLoggers, new Set([logger]))
}

const newHarness = (): Effect.Effect<Harness> =>
  Effect.map(Future.make<number, OSError>(), (f) => ({ f, ran: [], nextId: 0 }))

// ----------------------------------------------------------------------------
// Arbitraries
// ----------------------------------------------------------------------------

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.constant({ _tag: "cancel" } as const),
  fc.constant({ _tag: "interrupt" } as const),
  { arbitrary: fc.constant({ _tag: "setRunningOrNotifyCancel" } as const), weight: 2 },
  fc.integer({ min: -100, max: 100 }).map((value) => ({ _tag: "setResult", value }) as const),
  fc.string({ maxLength: 8 }).map((message) => ({ _tag: "setException", message }) as const),
  {
    arbitrary: fc
      .constantFrom<CallbackKind>("sync", "effect", "throws", "fails")
      .map((kind) => ({ _tag: "addDoneCallback", kind }) as const),
    weight: 3
  }
)

/** A racer: an operation, started after `delay` yields so the scheduler interleaves them differently. */
const racerArb = fc.record({ op: opArb, delay: fc.integer({ min: 0, max: 3 }) })

const permutations = <A>(xs: ReadonlyArray<A>): Array<Array<A>> =>
  xs.length <= 1
    ? [[...xs]]
    : xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((rest) => [x, ...rest]))

const isCancel = (op: Op) => op._tag === "cancel" || op._tag === "interrupt"
const isSet = (op: Op) => op._tag === "setResult" || op._tag === "setException"

const range = (n: number): Array<number> => Array.from({ length: n }, (_, i) => i)

const yieldTimes = (n: number): Effect.Effect<void> => Effect.repeat(Effect.yieldNow, { times: n })

describe("futureState (property)", () => {
  it.live("any sequence of operations behaves as CPython's state machine", () =>
    Effect.promise(() =>
      fc.assert(
        fc.asyncProperty(fc.array(opArb, { maxLength: 12 }), (ops) =>
          Effect.runPromise(
            withLogs((logs) =>
              Effect.gen(function* () {
                const h = yield* newHarness()
                const m = initialModel()
                yield* checkAgainst(h, m, logs)
                for (const op of ops) {
                  const expected = step(m, op)
                  const actual = yield* run(h, op)
                  expect(actual, `${op._tag} in ${JSON.stringify(ops)}`).toBe(expected)
                  yield* checkAgainst(h, m, logs)
                }
                yield* checkWait(h, m)
                // Every callback ran once, in the order added, if the future is done; none ran otherwise.
                expect(h.ran.map(([id]) => id)).toEqual(isDone(m.state) ? range(h.nextId) : [])
              })
            )
          )
        ),
        { numRuns: 200 }
      )
    )
  )

  it.live(
    "wait and asCompleted already waiting wake exactly when the future is FINISHED or CANCELLED_AND_NOTIFIED",
    () =>
      Effect.promise(() =>
        fc.assert(
          fc.asyncProperty(fc.array(opArb, { maxLength: 8 }), (ops) =>
            Effect.runPromise(
              withLogs(() =>
                Effect.gen(function* () {
                  const h = yield* newHarness()
                  const m = initialModel()
                  // Registered before any operation, so only the future's notification can wake them.
                  const waiting = yield* Effect.forkChild(
                    Future.wait([h.f], { returnWhen: Future.FIRST_COMPLETED, timeout: "2 seconds" }),
                    { startImmediately: true }
                  )
                  const streaming = yield* Effect.forkChild(
                    Stream.runCollect(Future.asCompleted([h.f], { timeout: "2 seconds" })),
                    { startImmediately: true }
                  )
                  for (const op of ops) {
                    step(m, op)
                    yield* run(h, op)
                    if (!isNotified(m.state)) {
                      yield* Effect.yieldNow
                      expect(waiting.pollUnsafe(), `wait woke early after ${JSON.stringify(ops)}`).toBeUndefined()
                      expect(streaming.pollUnsafe(), `asCompleted emitted early`).toBeUndefined()
                      continue
                    }
                    const { done } = yield* Fiber.join(waiting).pipe(Effect.timeout("500 millis"), Effect.orDie)
                    expect(done.has(h.f)).toBe(true)
                    const emitted = yield* Fiber.join(streaming).pipe(Effect.timeout("500 millis"), Effect.orDie)
                    // Compared by identity: a future is iterable (for `yield*`), which deep equality would walk.
                    expect(emitted.length).toBe(1)
                    expect(emitted[0]).toBe(h.f)
                    break
                  }
                  yield* checkWait(h, m)
                })
              )
            )
          ),
          { numRuns: 200 }
        )
      )
  )

  it.live("racing fibers give outcomes some sequential order of the same operations would give", () =>
    Effect.promise(() =>
      fc.assert(
        fc.asyncProperty(
          fc.array(racerArb, { minLength: 2, maxLength: 5 }),
          fc.array(fc.constantFrom<CallbackKind>("sync", "effect"), { maxLength: 2 }),
          (racers, before) =>
            Effect.runPromise(
              withLogs((logs) =>
                Effect.gen(function* () {
                  const h = yield* newHarness()
                  const m0 = initialModel()
                  for (const kind of before) {
                    step(m0, { _tag: "addDoneCallback", kind })
                    yield* run(h, { _tag: "addDoneCallback", kind })
                  }
                  // Callback ids are handed out as the racers run (hence the suspend), so the model, whose ids
                  // follow the permutation, is compared on the states the callbacks saw, not on ids.
                  const outputs = yield* Effect.all(
                    racers.map(({ op, delay }) =>
                      Effect.andThen(
                        yieldTimes(delay),
                        Effect.suspend(() => run(h, op))
                      )
                    ),
                    { concurrency: "unbounded" }
                  )
                  const ops = racers.map(({ op }) => op)

                  // Invariants, stated directly.
                  const won = (pred: (op: Op) => boolean, out: Output) =>
                    ops.some((op, i) => pred(op) && outputs[i] === out)
                  const runningWins = ops.filter(
                    (op, i) => op._tag === "setRunningOrNotifyCancel" && outputs[i] === true
                  ).length
                  expect(runningWins).toBeLessThanOrEqual(1)
                  expect(won(isCancel, true) && runningWins === 1).toBe(false)
                  expect(ops.filter((op, i) => isSet(op) && outputs[i] === "ok").length).toBeLessThanOrEqual(1)
                  expect(won(isCancel, true) && won(isSet, "ok")).toBe(false)
                  const onlyCancelAndRun = ops.every((op) => isCancel(op) || op._tag === "setRunningOrNotifyCancel")
                  if (
                    onlyCancelAndRun &&
                    ops.some(isCancel) &&
                    ops.some((op) => op._tag === "setRunningOrNotifyCancel")
                  ) {
                    // From PENDING, exactly one of cancel and setRunningOrNotifyCancel wins.
                    expect(Number(won(isCancel, true)) + runningWins).toBe(1)
                  }

                  // Linearizability: some order of the racers explains every output and the final state.
                  const state = yield* Future.state(h.f)
                  const ranOrder = h.ran.map(([, s]) => s)
                  const explains = permutations(ops.map((_, i) => i)).some((order) => {
                    const m = cloneModel(m0)
                    for (const i of order) if (step(m, ops[i]!) !== outputs[i]) return false
                    return (
                      m.state === state &&
                      m.ran.length === ranOrder.length &&
                      m.ran.every(([, s], k) => s === ranOrder[k])
                    )
                  })
                  expect(explains, `outputs ${JSON.stringify(outputs)} for ${JSON.stringify(ops)}`).toBe(true)

                  // Each callback ran once, in the order added, if the future is done; none ran otherwise.
                  expect(h.ran.map(([id]) => id)).toEqual(isDone(state) ? range(h.nextId) : [])
                  const failing = ops.filter(
                    (op) => op._tag === "addDoneCallback" && (op.kind === "throws" || op.kind === "fails")
                  ).length
                  expect(logs).toHaveLength(isDone(state) ? failing : 0)
                })
              )
            )
        ),
        { numRuns: 200 }
      )
    )
  )

  it.live("cancels racing a thread pool: a future either runs to FINISHED or is cancelled and never runs", () =>
    Effect.promise(() =>
      fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 3 }),
          fc.array(fc.record({ blocks: fc.boolean(), cancelAfter: fc.option(fc.integer({ min: 0, max: 4 })) }), {
            minLength: 1,
            maxLength: 6
          }),
          fc.integer({ min: 0, max: 4 }),
          (maxWorkers, tasks, openAfter) => {
            const calls = tasks.map(() => 0)
            return Effect.runPromise(
              Effect.scoped(
                Effect.gen(function* () {
                  const executor = yield* ThreadPoolExecutor.make({ maxWorkers })
                  const gate = yield* Latch.make(false)
                  // Opens before the executor's shutdown waits for blocked tasks, even when an assertion fails.
                  yield* Effect.addFinalizer(() => gate.open)
                  const started = new Set<number>()
                  const futures = yield* Effect.forEach(tasks, ({ blocks }, i) =>
                    Effect.gen(function* () {
                      const f = yield* executor.submit(
                        Effect.andThen(
                          Effect.sync(() => started.add(i)),
                          blocks ? Effect.as(gate.await, i) : Effect.succeed(i)
                        )
                      )
                      yield* Future.addDoneCallback(f, () => {
                        calls[i]!++
                      })
                      return f
                    })
                  )
                  const cancels = yield* Effect.all(
                    [
                      Effect.andThen(yieldTimes(openAfter), gate.open),
                      ...tasks.map(({ cancelAfter }, i) =>
                        cancelAfter === null
                          ? Effect.succeed(undefined)
                          : Effect.andThen(yieldTimes(cancelAfter), Future.cancel(futures[i]!))
                      )
                    ],
                    { concurrency: "unbounded" }
                  )
                  const { notDone } = yield* Future.wait(futures, { timeout: "2 seconds" })
                  expect(notDone.size).toBe(0)
                  for (let i = 0; i < tasks.length; i++) {
                    const f = futures[i]!
                    const cancelled = cancels[i + 1]
                    const state = yield* Future.state(f)
                    if (cancelled === true) {
                      expect(started.has(i)).toBe(false)
                      expect(state).toBe("CANCELLED_AND_NOTIFIED")
                      expect(yield* Effect.flip(Future.result(f, { timeout: 0 }))).toBeInstanceOf(CancelledError)
                    } else {
                      expect(started.has(i)).toBe(true)
                      expect(state).toBe("FINISHED")
                      expect(yield* Future.result(f, { timeout: 0 })).toBe(i)
                    }
                  }
                })
              ).pipe(
                // Waiters may wake before the completing fiber has run the callbacks (as in CPython, where
                // `set_result` notifies waiters first); once the executor has shut down, each has run once.
                Effect.tap(() => Effect.sync(() => expect(calls).toEqual(tasks.map(() => 1))))
              )
            )
          }
        ),
        { numRuns: 50 }
      )
    )
  )
})
