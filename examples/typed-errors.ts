/**
 * A typed error crossing the process boundary: a task in a child process
 * fails with a `Schema.TaggedError`, and the parent gets a real instance of the
 * class back, so `Effect.catchTag` and `instanceof` work as if the task had
 * run in-process.
 *
 * Python's docs have no such example: there, an exception raised in a
 * `ProcessPoolExecutor` worker is pickled and re-raised by `future.result()`,
 * so `except OutOfStock as e:` works in the parent. This is the same
 * round trip, with the error in the type.
 *
 * Run it with `npm run example -- typed-errors`.
 */
import { Console, Effect } from "effect"
import { Executor, Future, ProcessPoolExecutor } from "../src/index.ts"
import { OutOfStock, reserve } from "./tasks/inventory.ts"

/** Reserves in a worker; an `OutOfStock` from the worker is caught by its tag here. */
const order = (item: string, wanted: number) =>
  Effect.gen(function* () {
    const future = yield* Executor.submit(reserve, item, wanted)
    // Future.result fails with OutOfStock | BrokenExecutor | SerializationError | CancelledError.
    return yield* Future.result(future)
  }).pipe(
    Effect.catchTag("OutOfStock", (error) =>
      Effect.succeed(
        `OutOfStock caught: ${error.message} (instanceof OutOfStock: ${error instanceof OutOfStock}, pid ${process.pid})`
      )
    )
  )

const main = Effect.gen(function* () {
  yield* Console.log(`parent process ${process.pid}`)
  yield* Console.log(yield* order("apples", 5))
  yield* Console.log(yield* order("pears", 5))
}).pipe(Effect.provide(ProcessPoolExecutor.layer({ maxWorkers: 1 })))

Effect.runPromise(main)
