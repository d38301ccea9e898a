/**
 * `Executor.map` keeps input order whatever order the calls finish in, for
 * any `chunksize` and `buffersize`, as Python's `Executor.map` does: on the
 * thread pool, each call waits on a gate the test opens in a random order
 * with random pauses between; on an interpreter pool, each call sleeps a
 * random time, so two workers finish them out of order.
 */
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, Stream } from "effect"
import * as fc from "fast-check"
import { Executor, InterpreterPoolExecutor, ThreadPoolExecutor } from "../../src/index.ts"
import * as tasks from "../fixtures/tasks.ts"

/** Bounds every map, so a hang fails the run instead of stalling it. */
const deadline = "20 seconds"

const zipWith = <A, B, C>(xs: ReadonlyArray<A>, ys: ReadonlyArray<B>, f: (a: A, b: B) => C): Array<C> =>
  xs.slice(0, Math.min(xs.length, ys.length)).map((x, i) => f(x, ys[i]!))

const f = (x: number, y: number): number => x * 1_000 + y

/** A permutation of `0..n-1`, from one random key per index. */
const permutationArb = (n: number): fc.Arbitrary<Array<number>> =>
  fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: n, maxLength: n }).map((keys) =>
    keys
      .map((k, i) => [k, i] as const)
      .sort((a, b) => a[0] - b[0])
      .map(([, i]) => i)
  )

const threadCaseArb = fc
  .record({
    xs: fc.array(fc.integer({ min: -100, max: 100 }), { maxLength: 24 }),
    ys: fc.array(fc.integer({ min: 0, max: 999 }), { maxLength: 24 }),
    maxWorkers: fc.integer({ min: 1, max: 6 }),
    chunksize: fc.integer({ min: 1, max: 5 }),
    buffersize: fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined }),
    take: fc.option(fc.integer({ min: 0, max: 24 }), { nil: undefined })
  })
  .chain((c) =>
    fc.record({
      c: fc.constant(c),
      order: permutationArb(Math.min(c.xs.length, c.ys.length)),
      pauses: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 24, maxLength: 24 })
    })
  )

describe("Executor.map (property)", () => {
  it.live("on a thread pool, results come in input order for any completion order, chunksize and buffersize", () =>
    Effect.promise(() =>
      fc.assert(
        fc.asyncProperty(threadCaseArb, ({ c, order, pauses }) =>
          Effect.runPromise(
            Effect.gen(function* () {
              const n = Math.min(c.xs.length, c.ys.length)
              const gates = yield* Effect.forEach(Array.from({ length: n }), () => Deferred.make<void>())
              const started: Array<number> = []
              // The third iterable is the call's index, so each call waits on its own gate.
              const call = (x: number, y: number, i: number): Effect.Effect<number> =>
                Effect.andThen(
                  Effect.sync(() => started.push(i)),
                  Effect.as(Deferred.await(gates[i]!), f(x, y))
                )
              const indices = Array.from({ length: n }, (_, i) => i)
              const stream = Executor.map(call, c.xs, c.ys, indices, {
                chunksize: c.chunksize,
                buffersize: c.buffersize
              })
              const collecting = yield* Effect.forkChild(
                Stream.runCollect(c.take === undefined ? stream : Stream.take(stream, c.take)),
                { startImmediately: true }
              )
              for (const [k, i] of order.entries()) {
                yield* Deferred.succeed(gates[i]!, undefined)
                yield* pauses[k] === 0 ? Effect.yieldNow : Effect.sleep(pauses[k]!)
              }
              const expected = zipWith(c.xs, c.ys, f)
              const got = yield* Fiber.join(collecting).pipe(Effect.timeout(deadline))
              expect(got).toEqual(c.take === undefined ? expected : expected.slice(0, c.take))
              // With a buffersize, no call starts more than buffersize ahead of the results taken.
              if (c.buffersize !== undefined && c.take !== undefined) {
                expect(Math.max(-1, ...started)).toBeLessThan(c.take + c.buffersize + 1)
              }
            }).pipe(Effect.provide(ThreadPoolExecutor.layer({ maxWorkers: c.maxWorkers })))
          )
        ),
        { numRuns: 150 }
      )
    )
  )

  it.live(
    "on an interpreter pool, results come in input order whatever order two workers finish them in",
    () =>
      Effect.gen(function* () {
        const executor = yield* InterpreterPoolExecutor.make({ maxWorkers: 2 })
        yield* Effect.promise(() =>
          fc.assert(
            fc.asyncProperty(
              fc.array(fc.record({ value: fc.integer(), ms: fc.integer({ min: 0, max: 15 }) }), { maxLength: 20 }),
              fc.integer({ min: 1, max: 4 }),
              fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
              (calls, chunksize, buffersize) =>
                Effect.runPromise(
                  executor
                    .map(
                      tasks.sleepThenReturn,
                      calls.map((c) => c.ms),
                      calls.map((c) => c.value),
                      { chunksize, buffersize }
                    )
                    .pipe(
                      Stream.runCollect,
                      Effect.timeout(deadline),
                      Effect.tap((got) => Effect.sync(() => expect(got).toEqual(calls.map((c) => c.value)))),
                      Effect.asVoid
                    )
                )
            ),
            { numRuns: 8 }
          )
        )
      }).pipe(Effect.scoped, Effect.timeout("60 seconds")),
    90_000
  )
})
