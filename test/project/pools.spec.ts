/**
 * A user's tests under their own vitest config: tasks in their own module run
 * on both worker pools; the mistakes vitest hides from the parent (a task
 * defined in the test file, an enum, `./helper.js` for a `.ts` file) fail
 * their call with a message that says why and what to do.
 */
import { Cause, Effect, Exit } from "effect"
import { describe, expect, it } from "vitest"
import { Executor, Future, InterpreterPoolExecutor, ProcessPoolExecutor, Task } from "../../src/index.ts"
import { color } from "./enumTasks.ts"
import { doubled } from "./jsImportTasks.ts"
import { doublePlusOne } from "./tasks.ts"

// The mistake a test below shows: a task defined in a test file.
// biome-ignore lint/suspicious/noExportsInTest: a worker must find the task as an export
export const inTheTestFile = Task.make(import.meta.url, "inTheTestFile", (n: number): number => n)

const layers = [
  ["InterpreterPoolExecutor", () => InterpreterPoolExecutor.layer({ maxWorkers: 1 })],
  ["ProcessPoolExecutor", () => ProcessPoolExecutor.layer({ maxWorkers: 1 })]
] as const

/** The call's exit, on a pool of its own, within 30 seconds. */
const call = (layer: (typeof layers)[number][1], task: Task.Task<[any], unknown, unknown>, arg: unknown) =>
  Effect.runPromise(
    Effect.flatMap(Executor.submit(task, arg), (future) => Future.await(future)).pipe(
      Effect.timeout("30 seconds"),
      Effect.provide(layer())
    )
  )

const defect = (exit: Exit.Exit<unknown, unknown>): string =>
  Exit.isFailure(exit) ? String(Cause.squash(exit.cause)) : `succeeded with ${String(exit.value)}`

describe.each(layers)("%s", (_name, layer) => {
  it("runs a task from its own module", async () => {
    const exit = await call(layer, doublePlusOne, 20)
    expect(exit).toEqual(Exit.succeed(41))
  })

  it("says a task defined in a test file cannot be imported by a worker", async () => {
    expect(defect(await call(layer, inTheTestFile, 1))).toContain("The task is defined in a test file")
  })

  it("says a task module must load under plain node: an enum", async () => {
    const message = defect(await call(layer, color, "Green"))
    expect(message).toContain("ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX")
    expect(message).toContain("Workers import task modules with Node itself")
  })

  it("says a task module must load under plain node: ./helper.js for helper.ts", async () => {
    const message = defect(await call(layer, doubled, 2))
    expect(message).toContain("ERR_MODULE_NOT_FOUND")
    expect(message).toContain("relative imports with their real extension")
  })
})
