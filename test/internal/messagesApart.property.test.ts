/**
 * `messagesApart`, which cuts a batch of calls (or replies) into messages so
 * that no two items in one message share an object, since one structured clone
 * per message would give them one shared copy. Random batches over a few
 * shared objects, against a plain walk of what each item reaches.
 */
import { describe, expect, it } from "@effect/vitest"
import * as fc from "fast-check"
import { messagesApart } from "../../src/internal/wire.ts"

/** Every object `u` reaches, as structured clone walks it. */
const reached = (u: unknown, into = new Set<object>()): Set<object> => {
  if (typeof u !== "object" || u === null || into.has(u)) return into
  into.add(u)
  if (ArrayBuffer.isView(u)) reached(u.buffer, into)
  else if (u instanceof Map) for (const [k, v] of u) reached(v, reached(k, into))
  else if (u instanceof Set) for (const v of u) reached(v, into)
  else for (const v of Object.values(u)) reached(v, into)
  return into
}

const disjoint = (a: Set<object>, b: Set<object>): boolean => [...a].every((o) => !b.has(o))

/** A batch: each item's parts, built from numbers, fresh objects and a few objects shared between items. */
const batches = fc.integer({ min: 0, max: 1000 }).chain((seed) => {
  const buffer = new ArrayBuffer(16)
  const shared: ReadonlyArray<object> = [
    { n: seed },
    [seed],
    new Map([[seed, { deep: seed }]]),
    new Set([seed]),
    new Float64Array(buffer, 0, 1),
    new Float64Array(buffer, 8, 1)
  ]
  const leaf = fc.oneof(
    fc.integer(),
    fc.constantFrom(...shared),
    fc.integer().map((n) => ({ n }))
  )
  const part = fc.oneof(
    leaf,
    fc.array(leaf, { maxLength: 3 }),
    leaf.map((v) => ({ inner: v })),
    leaf.map((v) => new Map([["k", v]]))
  )
  return fc.array(fc.array(part, { maxLength: 3 }), { maxLength: 12 })
})

describe("messagesApart", () => {
  it("keeps the order, and no two items of a message reach the same object", () =>
    fc.assert(
      fc.property(batches, (items) => {
        const messages = messagesApart(items, (parts) => parts)
        expect(messages.flat()).toStrictEqual(items)
        for (const message of messages) {
          const seen = message.map((parts) => reached(parts.filter((p) => typeof p === "object")))
          for (let i = 0; i < seen.length; i++) {
            for (let j = i + 1; j < seen.length; j++) expect(disjoint(seen[i]!, seen[j]!)).toBe(true)
          }
        }
      })
    ))

  it("cuts only where an item shares an object with its message so far: batches stay whole otherwise", () =>
    fc.assert(
      fc.property(batches, (items) => {
        const messages = messagesApart(items, (parts) => parts)
        for (let m = 1; m < messages.length; m++) {
          const before = new Set<object>()
          for (const parts of messages[m - 1]!) for (const p of parts) reached(p, before)
          const first = new Set<object>()
          for (const p of messages[m]![0]!) reached(p, first)
          expect(disjoint(before, first)).toBe(false)
        }
      })
    ))

  it("an item with a getter goes alone, without the getter being run", () => {
    let runs = 0
    const withGetter = {
      get value() {
        runs++
        return 1
      }
    }
    const messages = messagesApart([[1], [withGetter], [2]], (parts) => parts)
    expect(messages).toStrictEqual([[[1]], [[withGetter]], [[2]]])
    expect(runs).toBe(0)
  })

  it("one object given twice to one item keeps the item whole, and a deep value does not overflow the stack", () => {
    let deep: { next?: unknown } = {}
    for (let i = 0; i < 200_000; i++) deep = { next: deep }
    const box = { n: 1 }
    const items = [[box, box], [deep], [{ box }]]
    expect(messagesApart(items, (parts) => parts)).toStrictEqual([[items[0], items[1]], [items[2]]])
  })

  it("values without objects stay in one message", () => {
    const items = Array.from({ length: 100 }, (_, i) => [i, `s${i}`])
    const messages = messagesApart(items, (parts) => parts)
    expect(messages).toHaveLength(1)
    expect(messages[0]).toBe(items)
  })
})
