/**
 * The soak's tiny task. Workers import this module by URL, so it only
 * defines tasks: no top-level side effects.
 */
import * as Task from "../../src/Task.ts"

/** `x + 1`: as tiny as a task gets, so the pools' own costs dominate. */
export const inc = Task.make(import.meta.url, "inc", (x: number): number => x + 1)
