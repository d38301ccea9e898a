/**
 * `Executor.map` over an endless iterable: a generator of every integer from
 * 10^12 on, checked for primality by worker threads, stopped after the first
 * five primes with `Stream.take`. `buffersize` bounds how far `map` reads
 * ahead of the consumer, so the generator is asked for only a few numbers more
 * than were used; without it `map` would try to submit the whole (endless)
 * input first.
 *
 * Mirrors Python 3.14's `Executor.map(fn, iterable, buffersize=n)`:
 *
 * ```python
 * with InterpreterPoolExecutor(max_workers=2) as executor:
 *     results = executor.map(is_prime, itertools.count(START), buffersize=8)
 *     primes = (n for n, prime in zip(itertools.count(START), results) if prime)
 *     print(list(itertools.islice(primes, 5)))
 * ```
 *
 * Run it with `npm run example -- endless-map`.
 */
import { Console, Effect, Stream } from "effect"
import { Executor, InterpreterPoolExecutor } from "../src/index.ts"
import { isPrime } from "./tasks/primes.ts"

const START = 1_000_000_000_000
const BUFFERSIZE = 8

let pulled = 0

/** itertools.count(START), counting how many numbers it has been asked for. */
function* count(start: number): Generator<number> {
  for (let n = start; ; n++) {
    pulled++
    yield n
  }
}

const main = Effect.gen(function* () {
  const results = Executor.map(isPrime, count(START), { buffersize: BUFFERSIZE })
  const primes = yield* results.pipe(
    Stream.zipWithIndex, // the i-th result is for START + i
    Stream.filter(([prime]) => prime),
    Stream.map(([, i]) => START + i),
    Stream.take(5), // closing the stream here cancels the calls not yet started
    Stream.runCollect
  )
  yield* Console.log(`the first 5 primes from ${START}: ${primes.join(", ")}`)
  const checked = primes.at(-1)! - START + 1
  yield* Console.log(
    `checked ${checked} numbers; the generator was asked for ${pulled} (at most ${checked} + buffersize ${BUFFERSIZE})`
  )
}).pipe(Effect.provide(InterpreterPoolExecutor.layer({ maxWorkers: 2 })))

Effect.runPromise(main)
