/**
 * The CPU-bound task of the `http-offload` example. A task module has nothing
 * but definitions, since every worker imports it.
 */
import { threadId } from "node:worker_threads"
import * as Task from "../../src/Task.ts"

/** Counts the primes below `limit` with a sieve of Eratosthenes, and says which worker thread did it. */
export const countPrimes = Task.make(import.meta.url, "countPrimes", (limit: number) => {
  const composite = new Uint8Array(limit)
  let count = 0
  for (let i = 2; i < limit; i++) {
    if (composite[i] === 1) continue
    count++
    for (let j = i * i; j < limit; j += i) composite[j] = 1
  }
  return { count, threadId }
})
