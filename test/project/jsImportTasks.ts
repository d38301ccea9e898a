/**
 * A task module that imports `./helper.js` for `helper.ts`: a bundler or test
 * runner resolves that, plain Node in a worker does not.
 */
import { Task } from "../../src/index.ts"
import { double } from "./helper.js"

/** 2n, through the helper. */
export const doubled = Task.make(import.meta.url, "doubled", (n: number): number => double(n))
