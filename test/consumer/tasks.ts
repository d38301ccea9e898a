/**
 * A task module of the strict TypeScript consumer: erasable TypeScript that
 * Node runs as it is, in the parent and in every worker.
 */
import { Effect, Schema } from "effect"
import * as Task from "effect-futures/Task"

/** The typed failure `checkedSquare` ends with. */
export class Negative extends Schema.TaggedError<Negative>()("Negative", { value: Schema.Number }) {}

/** `n * n`, or a typed `Negative` for a negative `n`. */
export const checkedSquare = Task.make(
  import.meta.url,
  "checkedSquare",
  (n: number): Effect.Effect<number, Negative> =>
    n < 0 ? Effect.fail(new Negative({ value: n })) : Effect.succeed(n * n),
  { error: Negative }
)
