/**
 * A program meant to be bundled: `build.ts` bundles it with esbuild, with its
 * task module and the worker entry as entry points of their own, and the
 * bundle runs both worker pools. See docs/bundling.md.
 */
import { Console, Effect, Stream } from "effect"
import { Executor, Future, InterpreterPoolExecutor, ProcessPoolExecutor } from "../../src/index.ts"
import { checkedSqrt, square } from "./tasks.js"

const onePool = (name: string) =>
  Effect.gen(function* () {
    const squares = yield* Executor.map(square, [1, 2, 3, 4]).pipe(Stream.runCollect)
    const root = yield* Executor.submit(checkedSqrt, -4).pipe(
      Effect.flatMap((future) => Future.result(future)),
      Effect.catchTag("NegativeInput", (error) => Effect.succeed(`NegativeInput(${error.input})`))
    )
    yield* Console.log(`${name}: squares ${squares.join(",")}; sqrt(-4): ${root}`)
  })

const program = Effect.gen(function* () {
  yield* onePool("InterpreterPoolExecutor").pipe(Effect.provide(InterpreterPoolExecutor.layer({ maxWorkers: 2 })))
  yield* onePool("ProcessPoolExecutor").pipe(Effect.provide(ProcessPoolExecutor.layer({ maxWorkers: 2 })))
})

Effect.runPromise(program).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
