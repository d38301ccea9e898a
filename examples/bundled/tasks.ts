/**
 * The bundled example's tasks. Workers import this module, so it is an entry
 * point of the bundle of its own (see `build.ts`): a task must live in a file
 * that holds tasks only, never in the program's main bundle.
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { Task } from "../../src/index.ts"

/** The typed failure of `checkedSqrt`, rebuilt in the parent through its Schema. */
export class NegativeInput extends Schema.TaggedError<NegativeInput>()("NegativeInput", {
  input: Schema.Number
}) {}

/** n squared. */
export const square = Task.make(import.meta.url, "square", (n: number): number => n * n)

/** The square root of n, or a typed `NegativeInput` for a negative n. */
export const checkedSqrt = Task.make(
  import.meta.url,
  "checkedSqrt",
  (n: number): Effect.Effect<number, NegativeInput> =>
    n < 0 ? Effect.fail(new NegativeInput({ input: n })) : Effect.succeed(Math.sqrt(n)),
  { error: NegativeInput }
)
