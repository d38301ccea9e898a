/**
 * The task of the `primes` and `endless-map` examples. A task module has
 * nothing but definitions, since every worker imports it (Python's
 * `if __name__ == "__main__"` rule).
 */
import * as Task from "../../src/Task.ts"
import { isPrime as isPrimeFn } from "./isPrime.ts"

/** Python's `is_prime` (trial division by odd numbers up to √n, in `isPrime.ts`), as a task. */
export const isPrime = Task.make(import.meta.url, "isPrime", isPrimeFn)
