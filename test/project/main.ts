/**
 * Run under a loader (`tsx main.ts`, `node --import tsx main.ts`): the task
 * module uses an enum, which only the loader can run, in the workers too.
 */
import { Effect } from "effect"
import { Executor, Future, InterpreterPoolExecutor, ProcessPoolExecutor } from "../../src/index.ts"
import { color } from "./enumTasks.ts"

const green = Effect.flatMap(Executor.submit(color, "Green"), (future) => Future.result(future))

const program = Effect.gen(function* () {
  const thread = yield* green.pipe(Effect.provide(InterpreterPoolExecutor.layer({ maxWorkers: 1 })))
  const process = yield* green.pipe(Effect.provide(ProcessPoolExecutor.layer({ maxWorkers: 1 })))
  console.log(`InterpreterPoolExecutor: ${thread}, ProcessPoolExecutor: ${process}`)
})

await Effect.runPromise(program)
