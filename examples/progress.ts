/**
 * `Future.asCompleted` driving a progress bar: submit eight jobs of different
 * lengths and redraw `[###     ] 3/8` each time one completes, in whatever
 * order they complete. On a terminal the bar redraws in place (`\r`); when
 * stdout is a file or a pipe it prints one plain line per job instead.
 *
 * Mirrors the `as_completed` loop of Python's docs, as progress bars such as
 * tqdm use it:
 *
 * ```python
 * futures = [executor.submit(render, n) for n in range(8)]
 * for i, future in enumerate(as_completed(futures), 1):
 *     print(f'\r[{"#" * i:<8}] {i}/8', end='')
 * ```
 *
 * Run it with `npm run example -- progress`.
 */
import { Console, Effect, Stream } from "effect"
import { Executor, Future, ThreadPoolExecutor } from "../src/index.ts"

/** How long each job takes, in milliseconds: they finish out of order. */
const durations = [240, 80, 400, 160, 40, 320, 120, 200]

/** A stand-in for real I/O-bound work, such as uploading a file. */
const job = (n: number) => Effect.sleep(durations[n]!).pipe(Effect.as(n))

const bar = (done: number, total: number) => `[${"#".repeat(done).padEnd(total)}] ${done}/${total}`

const main = Effect.gen(function* () {
  const futures = yield* Effect.forEach(durations.keys(), (n) => Executor.submit(job, n))
  const total = futures.length
  const tty = process.stdout.isTTY === true
  if (tty) process.stdout.write(bar(0, total))

  yield* Future.asCompleted(futures).pipe(
    Stream.zipWithIndex,
    Stream.runForEach(([future, i]) =>
      Effect.gen(function* () {
        const n = yield* Future.result(future)
        if (tty) process.stdout.write(`\r${bar(i + 1, total)}`)
        else yield* Console.log(`${bar(i + 1, total)}  job ${n} done (${durations[n]} ms)`)
      })
    )
  )
  if (tty) process.stdout.write("\n")
  yield* Console.log("all jobs done")
}).pipe(Effect.provide(ThreadPoolExecutor.layer({ maxWorkers: 4 })))

Effect.runPromise(main)
