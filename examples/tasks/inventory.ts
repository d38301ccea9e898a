/**
 * The tasks of the `typed-errors` example: a stock lookup that fails with a
 * typed error. A task module has nothing but definitions, since every worker
 * imports it.
 */
import { Effect, Schema } from "effect"
import * as Task from "../../src/Task.ts"

/** The typed error: a Schema class, so it can be rebuilt on the other side of the worker boundary. */
export class OutOfStock extends Schema.TaggedError<OutOfStock>()("OutOfStock", {
  item: Schema.String,
  wanted: Schema.Number,
  left: Schema.Number
}) {
  override get message(): string {
    return `only ${this.left} ${this.item} left, ${this.wanted} wanted`
  }
}

const stock: Record<string, number> = { apples: 12, pears: 3 }

/**
 * Reserves `wanted` items, in a worker process. Fails with `OutOfStock`;
 * `{ error: OutOfStock }` tells the parent how to rebuild it.
 */
export const reserve = Task.make(
  import.meta.url,
  "reserve",
  (item: string, wanted: number) =>
    Effect.gen(function* () {
      const left = stock[item] ?? 0
      if (left < wanted) return yield* new OutOfStock({ item, wanted, left })
      return `reserved ${wanted} ${item} in process ${process.pid}`
    }),
  { error: OutOfStock }
)
