/**
 * Python's ProcessPoolExecutor example from the `concurrent.futures` docs:
 * which of six large numbers are prime, checked in parallel by child
 * processes with `Executor.map`.
 *
 * ```python
 * def main():
 *     with concurrent.futures.ProcessPoolExecutor() as executor:
 *         for number, prime in zip(PRIMES, executor.map(is_prime, PRIMES)):
 *             print('%d is prime: %s' % (number, prime))
 * ```
 *
 * `isPrime` lives in `tasks/primes.ts`: every worker imports that module, so
 * it must not start anything at its top level, while this file is the program.
 *
 * Run it with `npm run example -- primes`.
 */
import { Console, Effect, Stream } from "effect"
import { Executor, ProcessPoolExecutor } from "../src/index.ts"
import { isPrime } from "./tasks/primes.ts"

const PRIMES = [112272535095293, 112582705942171, 112272535095293, 115280095190773, 115797848077099, 1099726899285419]

const main = Effect.gen(function* () {
  // executor.map(is_prime, PRIMES): results stream in input order.
  const primes = yield* Executor.map(isPrime, PRIMES).pipe(Stream.runCollect)
  for (const [i, number] of PRIMES.entries()) {
    yield* Console.log(`${number} is prime: ${primes[i] ? "True" : "False"}`)
  }
}).pipe(
  // with ProcessPoolExecutor() as executor: the pool shuts down when main ends.
  Effect.provide(ProcessPoolExecutor.layer({ maxWorkers: 2 }))
)

Effect.runPromise(main)
