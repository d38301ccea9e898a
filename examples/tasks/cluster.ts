/**
 * The task of the `cluster` example: the runners are started with it (their
 * allowlist) and their worker threads import this module, so it only defines
 * the task.
 */
import * as Task from "../../src/Task.ts"
import { isPrime } from "./isPrime.ts"

/** Whether `n` is prime, and which runner process answered. */
export const checkPrime = Task.make(import.meta.url, "checkPrime", (n: number) => ({
  n,
  prime: isPrime(n),
  runner: process.pid
}))
