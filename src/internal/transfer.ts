/**
 * Zero-copy marks: a value wrapped with `Task.transfer` crosses with its
 * buffers moved instead of copied. Wrappers are plain objects, so either side
 * can unwrap them; the signal slot lets a running task read its AbortSignal.
 *
 * @internal
 */
import type { Transferable } from "node:worker_threads"

/** @internal */
export const TransferTypeId = "~effect-futures/Transfer" as const

/** @internal */
export interface Transfer<A> {
  readonly [TransferTypeId]: typeof TransferTypeId
  readonly value: A
  readonly transfer: ReadonlyArray<Transferable>
}

/** Where a worker puts the running task's AbortSignal while it starts; a global, so any copy of the package sees it. */
/** @internal */
export const signalKey = Symbol.for("effect-futures/signal")

const isTransfer = (u: unknown): u is Transfer<unknown> => typeof u === "object" && u !== null && TransferTypeId in u

/** Unwraps marked values in place of a copy of `values`, adding their buffers to `list`. */
/** @internal */
export const unwrapAll = (values: ReadonlyArray<unknown>, list: Array<Transferable>): ReadonlyArray<unknown> => {
  let out: Array<unknown> | undefined
  for (let i = 0; i < values.length; i++) {
    const v = values[i]
    if (isTransfer(v)) {
      out ??= values.slice()
      out[i] = v.value
      for (const t of v.transfer) list.push(t)
    }
  }
  return out ?? values
}

/**
 * The bytes of the buffers that `values` (with `chunk`, a list of argument lists) move: what the
 * sender's heap gives up until they come back.
 */
/** @internal */
export const movedBytes = (values: ReadonlyArray<unknown>, chunk: boolean): number => {
  let bytes = 0
  for (const v of values) {
    if (chunk) bytes += movedBytes(v as ReadonlyArray<unknown>, false)
    else if (isTransfer(v)) for (const t of v.transfer) if (t instanceof ArrayBuffer) bytes += t.byteLength
  }
  return bytes
}

/** Unwraps one value, adding its buffers to `list`. */
/** @internal */
export const unwrap = (value: unknown, list: Array<Transferable>): unknown => {
  if (!isTransfer(value)) return value
  for (const t of value.transfer) list.push(t)
  return value.value
}
