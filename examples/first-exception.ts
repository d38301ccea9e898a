/**
 * `Future.wait` with `FIRST_EXCEPTION`: start several jobs, wake as soon as one
 * fails, then cancel the jobs that have not started and stop the ones that
 * are running.
 *
 * Mirrors this Python pattern (the docs describe `FIRST_EXCEPTION` under
 * `concurrent.futures.wait`):
 *
 * ```python
 * with ThreadPoolExecutor(max_workers=2) as executor:
 *     futures = [executor.submit(download, n) for n in range(1, 7)]
 *     done, not_done = wait(futures, return_when=FIRST_EXCEPTION)
 *     for f in not_done:
 *         f.cancel()   # True for pending futures; running ones finish
 * ```
 *
 * Python cannot stop a running future; `Future.interrupt` can, so the running
 * jobs are interrupted instead of awaited.
 *
 * Run it with `npm run example -- first-exception`.
 */
import { Console, Data, Effect, Option } from "effect"
import { Executor, Future, ThreadPoolExecutor } from "../src/index.ts"

class DownloadError extends Data.TaggedError("DownloadError")<{ readonly message: string }> {}

/** A job that takes a while; job 2 fails early. */
const download = (n: number) =>
  n === 2
    ? Effect.sleep("50 millis").pipe(Effect.andThen(Effect.fail(new DownloadError({ message: "checksum mismatch" }))))
    : Effect.sleep("2 seconds").pipe(Effect.as(`file-${n}`))

const main = Effect.gen(function* () {
  const futures = yield* Effect.forEach([1, 2, 3, 4, 5, 6], (n) => Executor.submit(download, n))
  const job = (f: (typeof futures)[number]) => `job ${futures.indexOf(f) + 1}`

  // done, not_done = wait(futures, return_when=FIRST_EXCEPTION)
  const { done, notDone } = yield* Future.wait(futures, { returnWhen: Future.FIRST_EXCEPTION })
  for (const f of done) {
    const error = yield* Future.exception(f) // Option of the failure
    if (Option.isSome(error)) yield* Console.log(`${job(f)} failed: ${(error.value as Error).message}`)
  }
  yield* Console.log(`${notDone.size} jobs not done; cancelling them`)

  // for f in not_done: f.cancel(): true for the jobs that have not started.
  const running: typeof futures = []
  for (const f of notDone) {
    if (yield* Future.cancel(f)) yield* Console.log(`${job(f)}: cancelled before it started`)
    else running.push(f)
  }
  // Beyond Python: the running jobs are stopped rather than awaited.
  for (const f of running) {
    if (yield* Future.interrupt(f)) yield* Console.log(`${job(f)}: was running, interrupted`)
  }
  const states = yield* Effect.forEach(futures, Future.state)
  yield* Console.log(`states: ${states.join(", ")}`)
}).pipe(Effect.provide(ThreadPoolExecutor.layer({ maxWorkers: 2 })))

Effect.runPromise(main)
