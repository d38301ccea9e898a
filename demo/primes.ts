/**
 * The task of Python's ProcessPoolExecutor example: is `n` prime? A module
 * with nothing but tasks, since every worker imports it.
 */
import { Task } from "../src/index.ts"

/** Python's `is_prime`, by trial division over odd numbers. */
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
