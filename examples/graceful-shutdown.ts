/**
 * Graceful shutdown on Ctrl-C. Six long jobs go to a process pool of two
 * workers; press Ctrl-C (SIGINT) and `NodeRuntime.runMain` interrupts the
 * program, which closes the pool's scope by interruption: pending jobs are
 * cancelled and never run, running jobs are stopped and their worker
 * processes killed, and the scope's close returns only once every worker is
 * gone. The program then prints what happened to each job and exits with code
 * 130 (128 + SIGINT, the shell's convention for a program stopped by Ctrl-C,
 * and what `runMain` gives an interrupted program). SIGTERM does the same.
 *
 * Mirrors Python's `with ProcessPoolExecutor() as executor:` hit by
 * `KeyboardInterrupt`, whose exit calls `shutdown(wait=True)`; here the
 * running jobs are stopped rather than awaited, so Ctrl-C is never ignored.
 * To let running jobs finish instead, call
 * `Executor.shutdown({ wait: true, cancelFutures: true })` yourself.
 *
 * Run it with `npm run example -- graceful-shutdown` and press Ctrl-C once
 * the jobs have started.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Console, Effect, Exit } from "effect"
import { Future, ProcessPoolExecutor } from "../src/index.ts"
import { render } from "./tasks/render.ts"

const JOBS = 6

const program = Effect.gen(function* () {
  const futures: Array<Future.Future<number, unknown>> = []
  const statesAtStop: Array<Future.State> = []

  // Finalizers run in reverse order. This one runs last, once the pool is gone.
  yield* Effect.addFinalizer((exit) =>
    Effect.gen(function* () {
      if (!Exit.hasInterrupts(exit)) return
      const after = yield* Effect.forEach(futures, Future.state)
      const count = (before: Future.State, now: Future.State) =>
        futures.filter((_, i) => statesAtStop[i] === before && after[i] === now).length
      for (const [i, state] of after.entries()) {
        yield* Console.log(`  job ${i + 1}: ${statesAtStop[i]} -> ${state}`)
      }
      yield* Console.log(
        `summary: ${count("RUNNING", "CANCELLED_AND_NOTIFIED")} running jobs stopped, ` +
          `${count("PENDING", "CANCELLED_AND_NOTIFIED")} pending jobs cancelled, ` +
          `${after.filter((s) => s === "FINISHED").length} finished; every worker is gone`
      )
    })
  )

  // with ProcessPoolExecutor(max_workers=2) as executor: its finalizer shuts the pool down.
  const pool = yield* ProcessPoolExecutor.make({ maxWorkers: 2 })

  // Added after the pool, so it runs first: the jobs' states when the stop began.
  yield* Effect.addFinalizer((exit) =>
    Effect.gen(function* () {
      if (!Exit.hasInterrupts(exit)) return
      statesAtStop.push(...(yield* Effect.forEach(futures, Future.state)))
      yield* Console.log("\ninterrupted: closing the pool")
    })
  )

  for (let n = 1; n <= JOBS; n++) futures.push(yield* pool.submit(render, n, 60_000))
  yield* Console.log(`ready: ${JOBS} jobs submitted to 2 worker processes; press Ctrl-C to stop`)
  yield* Future.wait(futures)
  yield* Console.log("all jobs finished")
}).pipe(Effect.scoped)

NodeRuntime.runMain(program)
