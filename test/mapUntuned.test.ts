/**
 * `map` with neither `chunksize` nor `buffersize`, on every local pool: it reads the input a
 * window ahead of the consumer, so an endless iterable works and memory stays flat, and on the
 * worker pools it sends tiny calls in chunks it sizes itself, while slow calls still spread over
 * every worker.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, type Layer, Metric, Stream } from "effect"
import {
  Executor,
  InterpreterPoolExecutor,
  Observability,
  ProcessPoolExecutor,
  ThreadPoolExecutor
} from "../src/index.ts"
import * as tasks from "./fixtures/tasks.ts"
import { counting, repeat } from "./suites/executor.ts"
import { range, timeout } from "./suites/workerPool.ts"

const maxWorkers = 2

const pools: ReadonlyArray<readonly [string, () => Layer.Layer<Executor.Executor, unknown>, boolean]> = [
  ["ThreadPoolExecutor", () => ThreadPoolExecutor.layer({ maxWorkers }), false],
  ["InterpreterPoolExecutor", () => InterpreterPoolExecutor.layer({ maxWorkers }), true],
  ["ProcessPoolExecutor", () => ProcessPoolExecutor.layer({ maxWorkers }), true]
]

/** Units (calls or chunks) the executor in context was given so far. */
const submitted = Effect.gen(function* () {
  const executor = yield* Executor.Executor
  const counter = Metric.withAttributes(Observability.tasksSubmitted, Observability.attributes(executor))
  return (yield* Metric.value(counter)).count
})

for (const [name, layer, workers] of pools) {
  describe(`${name} map without options`, () => {
    const withPool = <A, E>(body: Effect.Effect<A, E, Executor.Executor>) =>
      body.pipe(Effect.provide(layer()), Effect.timeout(timeout))

    it.live("works over an endless iterable, reading only a window ahead of the consumer", () =>
      withPool(
        Effect.gen(function* () {
          const input = counting()
          const first = yield* Executor.map(tasks.add, input.values, repeat(1)).pipe(Stream.take(5), Stream.runCollect)
          expect(first).toEqual([1, 2, 3, 4, 5])
          // The window: 1024 calls on the thread pool, 4 chunks per worker of at most 1024 calls.
          expect(input.state.pulled).toBeGreaterThanOrEqual(5)
          expect(input.state.pulled).toBeLessThanOrEqual(8 * 1024 + 1)
        })
      )
    )

    it.live("gives every result of a long input in order", () =>
      withPool(
        Effect.gen(function* () {
          const n = 20_000
          const before = yield* submitted
          const out = yield* Executor.map(tasks.add, range(n), range(n)).pipe(Stream.runCollect)
          expect(out).toEqual(range(n).map((i) => 2 * i))
          const units = (yield* submitted) - before
          // Worker pools send tiny calls in chunks that grow up to 1024 calls; the thread pool calls each.
          if (workers) expect(units).toBeLessThan(n / 10)
          else expect(units).toBe(n)
        })
      )
    )

    if (workers) {
      it.live("spreads slow calls over every worker, one at a time", () =>
        withPool(
          Effect.gen(function* () {
            const ids = yield* Executor.map(tasks.whereAmI, [300, 300, 300, 300]).pipe(Stream.runCollect)
            const byWorker = new Map<string, number>()
            for (const id of ids)
              byWorker.set(`${id.pid}:${id.threadId}`, (byWorker.get(`${id.pid}:${id.threadId}`) ?? 0) + 1)
            expect([...byWorker.values()]).toEqual([2, 2])
          })
        )
      )
    }
  })
}
