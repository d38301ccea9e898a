/**
 * Spans across the worker boundary. A traced call carries its task span's
 * ids to the worker; there a recording tracer collects the spans the task's
 * Effect makes (the worker has no tracer of the user's), and they come back
 * with the reply to be replayed into the caller's tracer, with their own
 * start and end times, under the task span.
 *
 * @internal
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Tracer from "effect/Tracer"

/** The task span, as the worker sees it: the parent of what the task traces. */
/** @internal */
export interface WireParent {
  readonly traceId: string
  readonly spanId: string
  readonly sampled: boolean
}

/** @internal */
export type WireSpanExit =
  | { readonly _tag: "Success" }
  | { readonly _tag: "Interrupt" }
  | {
      readonly _tag: "Fail" | "Die"
      readonly name: string
      readonly message: string
      readonly stack: string | undefined
    }

/** One span made in a worker; every field survives structured clone. */
/** @internal */
export interface WireSpan {
  readonly name: string
  readonly traceId: string
  readonly spanId: string
  /** The parent's span id: the task span, another span of this list, or some other span; none for a root. */
  readonly parent: string | undefined
  readonly kind: Tracer.SpanKind
  readonly sampled: boolean
  readonly start: bigint
  readonly end: bigint
  readonly exit: WireSpanExit
  readonly attributes: ReadonlyArray<readonly [string, unknown]>
  readonly events: ReadonlyArray<readonly [name: string, time: bigint, attributes: Record<string, unknown>]>
}

/** An attribute value that structured clone takes: primitives and arrays of them as they are, the rest as text. */
const wireValue = (u: unknown): unknown => {
  if (u === null || typeof u !== "object") {
    return typeof u === "function" || typeof u === "symbol" ? String(u) : u
  }
  if (Array.isArray(u) && u.every((x) => x === null || (typeof x !== "object" && typeof x !== "function"))) {
    return u.map(wireValue)
  }
  try {
    return JSON.stringify(u) ?? String(u)
  } catch {
    return Object.prototype.toString.call(u)
  }
}

const wireRecord = (record: Record<string, unknown>): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  for (const key in record) out[key] = wireValue(record[key])
  return out
}

const wireExit = (exit: Exit.Exit<unknown, unknown>): WireSpanExit => {
  if (Exit.isSuccess(exit)) return { _tag: "Success" }
  for (const reason of exit.cause.reasons) {
    if (reason._tag === "Interrupt") continue
    const error = reason._tag === "Fail" ? reason.error : reason.defect
    return error instanceof Error
      ? { _tag: reason._tag, name: error.name, message: error.message, stack: error.stack }
      : { _tag: reason._tag, name: "Error", message: String(wireValue(error)), stack: undefined }
  }
  return { _tag: "Interrupt" }
}

/** Worker side: records the spans one call's Effect makes. */
/** @internal */
export class SpanRecorder {
  private readonly spans: Array<Tracer.NativeSpan> = []
  private readonly parent: Tracer.ExternalSpan
  private readonly tracer: Tracer.Tracer

  constructor(parent: WireParent) {
    this.parent = Tracer.externalSpan(parent)
    this.tracer = Tracer.make({
      span: (options) => {
        const span = new Tracer.NativeSpan(options)
        this.spans.push(span)
        return span
      }
    })
  }

  /** The task's Effect, with this recorder as its tracer and the task span as its parent. */
  wrap<A, E>(effect: Effect.Effect<A, E>): Effect.Effect<A, E> {
    return Effect.withTracer(Effect.withParentSpan(effect, this.parent), this.tracer)
  }

  /** What was recorded, for the reply; a span still open ends now, interrupted. */
  wire(): Array<WireSpan> | undefined {
    if (this.spans.length === 0) return undefined
    let now: bigint | undefined
    return this.spans.map((span): WireSpan => {
      const status = span.status
      const parent = Option.getOrUndefined(span.parent)
      const ended = status._tag === "Ended"
      return {
        name: span.name,
        traceId: span.traceId,
        spanId: span.spanId,
        parent: parent?.spanId,
        kind: span.kind,
        sampled: span.sampled,
        start: status.startTime,
        end: ended ? status.endTime : (now ??= BigInt(Date.now()) * 1_000_000n),
        exit: ended ? wireExit(status.exit) : { _tag: "Interrupt" },
        attributes: span._attributes === undefined ? [] : [...span._attributes].map(([k, v]) => [k, wireValue(v)]),
        events: span._events === undefined ? [] : span._events.map(([n, t, a]) => [n, t, wireRecord(a)])
      }
    })
  }
}

const spanExit = (wire: WireSpanExit): Exit.Exit<unknown, unknown> => {
  switch (wire._tag) {
    case "Success":
      return Exit.void
    case "Interrupt":
      return Exit.interrupt()
    default: {
      const error = new Error(wire.message)
      Object.defineProperty(error, "name", { value: wire.name, writable: true, configurable: true })
      if (wire.stack !== undefined) error.stack = wire.stack
      return wire._tag === "Fail" ? Exit.fail(error) : Exit.die(error)
    }
  }
}

/**
 * Main side: re-creates a worker's spans in `tracer` with their recorded
 * times, under `taskSpan` where the worker saw the task span. Spans are
 * made in the order recorded (parents first) and ended children first. A
 * tracer that throws loses the rest, never the task's result.
 */
/** @internal */
export const replay = (tracer: Tracer.Tracer, taskSpan: Tracer.Span, spans: ReadonlyArray<WireSpan>): void => {
  try {
    const made = new Map<string, Tracer.AnySpan>([[taskSpan.spanId, taskSpan]])
    const ends: Array<() => void> = []
    for (const wire of spans) {
      const parent: Tracer.AnySpan | undefined =
        wire.parent === undefined
          ? undefined
          : (made.get(wire.parent) ??
            Tracer.externalSpan({ spanId: wire.parent, traceId: wire.traceId, sampled: wire.sampled }))
      const span = tracer.span({
        name: wire.name,
        parent: Option.fromUndefinedOr(parent),
        annotations: Context.empty(),
        links: [],
        startTime: wire.start,
        kind: wire.kind,
        root: parent === undefined,
        sampled: wire.sampled
      })
      for (const [key, value] of wire.attributes) span.attribute(key, value)
      for (const [name, time, attributes] of wire.events) span.event(name, time, attributes)
      made.set(wire.spanId, span)
      ends.push(() => span.end(wire.end, spanExit(wire.exit)))
    }
    for (let i = ends.length - 1; i >= 0; i--) ends[i]()
  } catch {
    // The user's tracer failed; the task's outcome must not.
  }
}
