/**
 * The task of the `primes` and `endless-map` examples. A task module has
 * nothing but definitions, since every worker imports it (Python's
 * `if __name__ == "__main__"` rule).
 */
import { Task } from "../../src/index.ts"

/** Python's `is_prime`: trial division by odd numbers up to √n. */
export const isPrime = Task.make(import.meta.url, "isPrime", (n: number): boolean => {
  if (n < 2) return false
  if (n === 2) return true
  if (n % 2 === 0) return false
  const sqrtN = Math.floor(Math.sqrt(n))
  for (let i = 3; i <= sqrtN; i += 2) {
    if (n % i === 0) return false
  }
  return true
})
