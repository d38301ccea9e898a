/**
 * The wire between a worker pool and its workers: messages of foreign shapes
 * on either side. Real threads and processes; every wait has a deadline, so a
 * deadlock fails its test, naming what hung, instead of hanging the run.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, type Scope } from "effect"
import {
  type Executor,
  Future,
  InterpreterPoolExecutor,
  ProcessPoolExecutor,
  SerializationError
} from "../src/index.ts"
import { awaitExit, expectFailure, within, withPoolUnder } from "./fixtures/deadlock.ts"
import * as faults from "./fixtures/faults.ts"
import * as wire from "./fixtures/wire.ts"

/** Starting workers on a loaded machine. */
const startDeadline = "15 seconds"
/** A healthy call on a started pool. */
const callDeadline = "5 seconds"
/** `shutdown`, the scope's close. */
const shutdownDeadline = "5 seconds"

interface PoolCase {
  readonly name: string
  readonly worker: "thread" | "process"
  readonly make: (options: { readonly maxWorkers: number }) => Effect.Effect<Executor.Service, unknown, Scope.Scope>
}

const pools: ReadonlyArray<PoolCase> = [
  { name: "InterpreterPoolExecutor", worker: "thread", make: (options) => InterpreterPoolExecutor.make(options) },
  { name: "ProcessPoolExecutor", worker: "process", make: (options) => ProcessPoolExecutor.make(options) }
]

const withPool = withPoolUnder({ shutdownDeadline, killFirstOn: "deadlock" })

/** The pool still runs calls. */
const expectHealthy = (executor: Executor.Service) =>
  Effect.gen(function* () {
    const future = yield* executor.submit(faults.identity, 42)
    expect(yield* within(Future.result(future), callDeadline, "a call on a healthy pool")).toBe(42)
  })

const range = (n: number): Array<number> => Array.from({ length: n }, (_, i) => i)

/** Runs enough tiny calls that the pool knows a call's cost, and sends the next ones in batches. */
const warmUp = (executor: Executor.Service) =>
  Effect.gen(function* () {
    for (let round = 0; round < 4; round++) {
      const futures = yield* Effect.forEach(range(16), (i) => executor.submit(faults.identity, i))
      yield* Effect.forEach(futures, (future) => within(Future.result(future), startDeadline, "warming up the pool"))
    }
  })

for (const pool of pools) {
  describe(pool.name, () => {
    it.live("messages of foreign shapes from a task are ignored: its call succeeds, the pool carries on", () =>
      withPool(pool.make({ maxWorkers: 1 }), (executor) =>
        Effect.gen(function* () {
          const future = yield* executor.submit(wire.sendForeign, 7)
          expect(yield* awaitExit(future, startDeadline, "a call sending foreign messages")).toStrictEqual(
            Exit.succeed(7)
          )
          yield* expectHealthy(executor)
        })
      )
    )

    it.live("messages of foreign shapes reaching a worker are ignored: the call succeeds, the pool carries on", () =>
      withPool(pool.make({ maxWorkers: 1 }), (executor) =>
        Effect.gen(function* () {
          const future = yield* executor.submit(wire.receiveForeign, 8)
          expect(yield* awaitExit(future, startDeadline, "a call receiving foreign messages")).toStrictEqual(
            Exit.succeed(8)
          )
          yield* expectHealthy(executor)
        })
      )
    )

    it.live(
      "a result that cannot be cloned fails only its own call; the transferred results beside it arrive whole",
      () =>
        withPool(pool.make({ maxWorkers: 1 }), (executor) =>
          Effect.gen(function* () {
            yield* warmUp(executor)
            const bad = 5
            const size = 1024
            // Submitted at once to a warm worker: they go in one batch, and their replies come back in one.
            const futures = yield* Effect.forEach(range(16), (i) =>
              executor.submit(wire.transferUnlessBad, i, bad, size)
            )
            const exits = yield* Effect.forEach(futures, (future) =>
              awaitExit(future, callDeadline, "calls returning transferred buffers")
            )
            exits.forEach((exit, i) => {
              if (i === bad) {
                const error = expectFailure(exit, SerializationError, "SerializationError")
                expect(error.direction).toBe("result")
                expect(error.message).toMatch(/function/)
              } else {
                expect(exit, `call ${i}`).toStrictEqual(Exit.succeed(new Uint8Array(size).fill(i)))
              }
            })
            yield* expectHealthy(executor)
          })
        )
    )
  })
}
