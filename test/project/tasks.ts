/**
 * The fixture project's tasks, in a module of their own that plain Node can
 * import: erasable TypeScript, and `./helper.ts` imported with its extension.
 */
import { Task } from "../../src/index.ts"
import { double } from "./helper.ts"

/** 2n + 1. */
export const doublePlusOne = Task.make(import.meta.url, "doublePlusOne", (n: number): number => double(n) + 1)
