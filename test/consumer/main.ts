/**
 * The strict TypeScript consumer: `tsc --noEmit` checks it against the
 * installed package's declarations (`module: nodenext`), then Node runs it:
 * one task on each pool, its typed error narrowed by `catchTag`.
 */
import { Effect, type Layer } from "effect"
import { Executor, Future, InterpreterPoolExecutor, ProcessPoolExecutor, ThreadPoolExecutor } from "effect-futures"
import { checkedSquare, type Negative } from "./tasks.ts"

const pools: ReadonlyArray<readonly [string, Layer.Layer<Executor.Executor, unknown>]> = [
  ["ThreadPoolExecutor", ThreadPoolExecutor.layer()],
  ["InterpreterPoolExecutor", InterpreterPoolExecutor.layer({ maxWorkers: 1 })],
  ["ProcessPoolExecutor", ProcessPoolExecutor.layer({ maxWorkers: 1 })]
]

const onPool = (name: string) =>
  Effect.gen(function* () {
    const value: number = yield* Executor.submit(checkedSquare, 4).pipe(Effect.flatMap((f) => Future.result(f)))
    const fallback: number = yield* Executor.submit(checkedSquare, -1).pipe(
      Effect.flatMap((f) => Future.result(f)),
      Effect.catchTag("Negative", (error: Negative) => Effect.succeed(error.value))
    )
    if (value !== 16 || fallback !== -1) return yield* Effect.die(new Error(`${name}: got ${value} and ${fallback}`))
    yield* Effect.sync(() => console.log(`ok ${name}`))
  })

const program = Effect.forEach(pools, ([name, layer]) =>
  onPool(name).pipe(Effect.provide(layer), Effect.timeout("30 seconds"))
)

Effect.runPromise(program).then(
  () => console.log("typescript: every pool ran its task"),
  (error: unknown) => {
    console.error(error)
    process.exitCode = 1
  }
)
