/**
 * `map` for every executor, built on its submit (CPython's `Executor.map` in `_base.py`):
 * the arguments zipped, optionally chunked and bounded by `buffersize`, results in order.
 * Untuned (neither `chunksize` nor `buffersize`), it picks both itself: a window of calls
 * ahead of the consumer, and on worker pools chunks sized by how fast they come back.
 *
 * @internal
 */

import type * as Arr from "effect/Array"
import * as Cause from "effect/Cause"
import type * as Clock from "effect/Clock"
import type * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Stream from "effect/Stream"
import type { MapError, MapOptions, SubmitError } from "../../Executor.ts"
import { Fifo } from "../fifo.ts"
import * as core from "../future/state.ts"
import { type Admission, mustWait, settleSubmit } from "../policy/admission.ts"
import { checkPositiveInt, decodeTimeout } from "../policy/options.ts"
import { describe } from "./task.ts"

/** Splits `map`'s rest arguments: a trailing plain object that is not iterable is the options. */
/** @internal */
export const splitMapArgs = (
  rest: ReadonlyArray<unknown>
): { readonly iterables: ReadonlyArray<Iterable<unknown>>; readonly options: MapOptions } => {
  const last = rest[rest.length - 1]
  const isOptions =
    typeof last === "object" &&
    last !== null &&
    !(Symbol.iterator in last) &&
    Object.getPrototypeOf(last) === Object.prototype
  return isOptions
    ? { iterables: rest.slice(0, -1) as ReadonlyArray<Iterable<unknown>>, options: last as MapOptions }
    : { iterables: rest as ReadonlyArray<Iterable<unknown>>, options: {} }
}

/** Python's `zip(*iterables)`: stops at the shortest. One iterable, the common case, is read without a generator. */
const zip = (iterables: ReadonlyArray<Iterable<unknown>>): Iterable<ReadonlyArray<unknown>> =>
  iterables.length === 1 ? single(iterables[0]) : zipMany(iterables)

const single = (iterable: Iterable<unknown>): Iterable<ReadonlyArray<unknown>> => ({
  [Symbol.iterator]: () => {
    const it = iterable[Symbol.iterator]()
    return {
      next: () => {
        const next = it.next()
        return next.done ? { done: true, value: undefined } : { done: false, value: [next.value] }
      },
      return: () => {
        it.return?.()
        return { done: true, value: undefined }
      }
    }
  }
})

function* zipMany(iterables: ReadonlyArray<Iterable<unknown>>): Generator<ReadonlyArray<unknown>> {
  if (iterables.length === 0) return
  const iterators = iterables.map((it) => it[Symbol.iterator]())
  try {
    while (true) {
      const args: Array<unknown> = []
      for (const it of iterators) {
        const next = it.next()
        if (next.done) return
        args.push(next.value)
      }
      yield args
    }
  } finally {
    for (const it of iterators) it.return?.()
  }
}

/**
 * What a synchronous submit gives: the future, why it could not be submitted, or the `Admission` to
 * wait on; or, from a pool that called the task at once, its Exit.
 */
/** @internal */
export type Submitted = core.FutureImpl<unknown, unknown> | Exit.Exit<unknown, unknown> | SubmitError | Admission

/** A submitted call as `map` holds it: its future, or the Exit of a call that ended at once. */
type Call = core.FutureImpl<unknown, unknown> | Exit.Exit<unknown, unknown>

const isFuture = (call: Call): call is core.FutureImpl<unknown, unknown> => call instanceof core.FutureImpl

/** The call's Exit once it has one. */
const exitOf = (call: Call): Exit.Exit<unknown, unknown> | undefined =>
  isFuture(call) ? (call.state === "FINISHED" ? call.exit : undefined) : call

/** @internal */
export interface CheckedMapOptions {
  readonly timeout: Duration.Duration | undefined
  /** `undefined`: neither `chunksize` nor `buffersize` was given, and `map` picks both. */
  readonly chunksize: number | undefined
  readonly buffersize: number | undefined
}

const checkMapOptions = (options: MapOptions): CheckedMapOptions | Cause.IllegalArgumentError => {
  const timeout = decodeTimeout("map: timeout", options.timeout)
  if (Cause.isIllegalArgumentError(timeout)) return timeout
  if (options.chunksize !== undefined) {
    const badChunk = checkPositiveInt("map: chunksize", options.chunksize)
    if (badChunk) return badChunk
  }
  if (options.buffersize !== undefined) {
    const badBuffer = checkPositiveInt("map: buffersize", options.buffersize)
    if (badBuffer) return badBuffer
  }
  // Either one given is Python's map, whose default chunk is one call.
  const chunksize = options.chunksize ?? (options.buffersize === undefined ? undefined : 1)
  return { timeout, chunksize, buffersize: options.buffersize }
}

/**
 * How untuned `map` paces a pool. `unitsPerWorker`: units (calls, or chunks where the pool
 * sends chunks whole) submitted ahead of the consumer per worker, so every worker has one
 * running and more waiting, and no more than `maxUnits`; where each unit is one call, at least
 * `windowCalls` of them, so tiny calls go in runs, not one by one. `chunkMillis`: chunks start at one call, so a first result
 * comes at once and slow calls spread over every worker; a chunk that came back within
 * `chunkMillis` of its submit lets the next ones hold twice its calls, up to `maxChunkCalls`, and
 * one that took over four times that halves them. Tiny calls so end up in chunks of hundreds
 * (one message each way per chunk, not per call), while a chunk never holds much more than
 * `chunkMillis` of work.
 */
/** @internal */
export interface MapPacing {
  readonly unitsPerWorker: number
  readonly maxUnits: number
  readonly chunkMillis: number
}

/** A pool on this machine: a chunk's round trip is well under a millisecond when idle. */
/** @internal */
export const localPacing: MapPacing = { unitsPerWorker: 4, maxUnits: Number.POSITIVE_INFINITY, chunkMillis: 5 }

const windowCalls = 1024
const maxChunkCalls = 1024

class ChunkSizer {
  /** Calls in the next chunk. */
  size = 1
  private readonly chunkMillis: number

  constructor(chunkMillis: number) {
    this.chunkMillis = chunkMillis
  }

  /** Learns from a chunk of `calls` calls that ended `millis` after it was submitted. */
  ended(calls: number, millis: number): void {
    if (millis <= this.chunkMillis) this.size = Math.min(maxChunkCalls, Math.max(this.size, 2 * calls))
    else if (millis > 4 * this.chunkMillis) this.size = Math.max(1, Math.min(this.size, calls >> 1))
  }
}

/**
 * The chunks of `map`'s calls that failed part way, by their future: the results of the calls
 * before the failure, which `map` gives before it fails, as one call at a time would.
 */
/** @internal */
export const partialChunks = new WeakMap<core.FutureImpl<unknown, unknown>, ReadonlyArray<unknown>>()

/** What a chunk that failed part way gives the stream: the results before the failure, then the failure. */
class PartialChunk {
  readonly values: ReadonlyArray<unknown>
  readonly cause: Cause.Cause<unknown>
  constructor(values: ReadonlyArray<unknown>, cause: Cause.Cause<unknown>) {
    this.values = values
    this.cause = cause
  }
}

/** A chunk of `map`'s calls, and the input its first call is for (so an error can name the input). */
interface Chunk {
  readonly first: number
  readonly calls: ReadonlyArray<ReadonlyArray<unknown>>
}

/** Python's `itertools.batched`, each batch with the index of its first item; `size` is read as each batch starts. */
function* batched(items: Iterable<ReadonlyArray<unknown>>, size: () => number): Generator<Chunk> {
  let calls: Array<ReadonlyArray<unknown>> = []
  let first = 0
  let n = size()
  for (const item of items) {
    calls.push(item)
    if (calls.length === n) {
      yield { first, calls }
      first += n
      calls = []
      n = size()
    }
  }
  if (calls.length > 0) yield { first, calls }
}

/** What `map` needs of a pool. */
/** @internal */
export interface MapTarget {
  /** Submits one call. */
  readonly submit: (args: ReadonlyArray<unknown>, context: Context.Context<never>) => Submitted
  /** Submits a chunk of calls as one unit, where the pool sends chunks whole; `first` is its first map input. */
  readonly submitChunk:
    | ((argsList: ReadonlyArray<ReadonlyArray<unknown>>, context: Context.Context<never>, first: number) => Submitted)
    | undefined
  /** The pool's `maxWorkers`: the untuned window keeps every worker busy. */
  readonly maxWorkers: number
  /** How untuned `map` paces this pool. */
  readonly pacing: MapPacing
}

/**
 * Python's `Executor.map` over `submit`: results in input order; without
 * `buffersize` every call is submitted when the stream starts, with it at most
 * `buffersize` are ahead of the consumer. The timeout counts from the start;
 * closing the stream cancels the calls that have not started. With
 * `submitChunk` and a `chunksize` above 1, calls go `chunksize` at a time,
 * as `ProcessPoolExecutor.map` does. With neither option, a window of units
 * is ahead of the consumer, chunks sized by `ChunkSizer`, both paced by the target's `MapPacing`.
 */
/** @internal */
export const mapWith = (target: MapTarget, rest: ReadonlyArray<unknown>): Stream.Stream<unknown, unknown | MapError> =>
  Stream.suspend(() => {
    const { iterables, options: raw } = splitMapArgs(rest)
    const options = checkMapOptions(raw)
    if (Cause.isIllegalArgumentError(options)) return Stream.fail(options)
    const notIterable = iterables.findIndex((it) => it == null || typeof (it as any)[Symbol.iterator] !== "function")
    if (notIterable >= 0) {
      return Stream.fail(
        new Cause.IllegalArgumentError(
          `map: argument ${notIterable + 2} must be an iterable, got ${describe(iterables[notIterable])}`
        )
      )
    }
    const { submit, submitChunk } = target
    const chunksize = options.chunksize
    const sizer =
      chunksize === undefined && submitChunk !== undefined ? new ChunkSizer(target.pacing.chunkMillis) : undefined
    const chunked = submitChunk !== undefined && (sizer !== undefined || chunksize! > 1)
    const units: Iterable<unknown> = chunked
      ? batched(zip(iterables), sizer === undefined ? () => chunksize! : () => sizer.size)
      : zip(iterables)
    const submitUnit = (unit: unknown, context: Context.Context<never>): Submitted => {
      const f = chunked
        ? submitChunk!((unit as Chunk).calls, context, (unit as Chunk).first)
        : submit(unit as ReadonlyArray<unknown>, context)
      if (f instanceof core.FutureImpl) {
        // The stream owns its futures: their failures end the stream, or were cut off by closing it.
        core.observe(f)
        if (sizer !== undefined) {
          const calls = (unit as Chunk).calls.length
          const at = performance.now()
          core.addResume(f, () => sizer.ended(calls, performance.now() - at))
        }
      }
      return f
    }
    const timeout = options.timeout
    // On the stream's Clock (a TestClock moves it), set as the stream starts.
    let clock: Clock.Clock | undefined
    let deadline = 0
    const resultOf = (call: Call): Effect.Effect<unknown, unknown> => {
      // An Exit is the Effect that gives its result.
      const exit = exitOf(call)
      if (exit !== undefined) return exit
      const f = call as core.FutureImpl<unknown, unknown>
      const waiting = core.awaitResult(f)
      const guarded =
        clock === undefined
          ? waiting
          : Effect.timeoutOrElse(waiting, {
              duration: Math.max(0, deadline - clock.currentTimeMillisUnsafe()),
              orElse: () => Effect.fail(new Cause.TimeoutError("map: the next result was not ready in time"))
            })
      return Effect.onError(guarded, () => cancelCall(f))
    }
    const chunkResultOf = (call: Call): Effect.Effect<unknown, unknown> =>
      Effect.catchCause(resultOf(call), (cause) => {
        const done = isFuture(call) ? partialChunks.get(call) : undefined
        return done === undefined ? Effect.failCause(cause) : Effect.succeed(new PartialChunk(done, cause))
      })
    const window =
      options.buffersize ??
      (chunksize === undefined
        ? Math.max(
            Math.min(target.pacing.unitsPerWorker * target.maxWorkers, target.pacing.maxUnits),
            chunked ? 0 : windowCalls
          )
        : undefined)
    const results =
      window === undefined
        ? eager(units, submitUnit, chunked ? chunkResultOf : resultOf)
        : bounded(units, window, submitUnit, chunked ? chunkResultOf : resultOf)
    const flat = chunked
      ? Stream.flatMap(results, (values) =>
          values instanceof PartialChunk
            ? Stream.concat(Stream.fromIterable(values.values), Stream.failCause(values.cause))
            : Stream.fromIterable(values as ReadonlyArray<unknown>)
        )
      : results
    if (timeout === undefined) return flat
    return Stream.unwrap(
      Effect.clockWith((streamClock) => {
        clock = streamClock
        deadline = streamClock.currentTimeMillisUnsafe() + Duration.toMillis(timeout)
        return Effect.succeed(flat)
      })
    )
  })

/** Where a map's units come from, and what it has submitted so far (in `push`). */
interface Feed {
  readonly iterator: Iterator<unknown>
  readonly submitUnit: (unit: unknown, context: Context.Context<never>) => Submitted
  readonly push: (call: Call) => void
  /** The iterator ran out, or a submit failed (the iterator is closed then). */
  exhausted: boolean
}

/**
 * Submits up to `n` more units, each call handed to `push`, as long as the queue has room;
 * where it has none, an Effect that waits and goes on.
 */
const feed = (from: Feed, n: number, context: Context.Context<never>): Effect.Effect<void, SubmitError> => {
  for (; n > 0 && !from.exhausted; n--) {
    const next = from.iterator.next()
    if (next.done) {
      from.exhausted = true
      break
    }
    const unit = next.value
    const f = from.submitUnit(unit, context)
    if (mustWait(f)) {
      const rest = n - 1
      return Effect.flatMap(
        settleSubmit<Call, SubmitError>(f, () => from.submitUnit(unit, context) as Call),
        (later) => {
          from.push(later)
          return feed(from, rest, context)
        }
      )
    }
    if (f instanceof Error) {
      from.exhausted = true
      from.iterator.return?.()
      return Effect.fail(f)
    }
    from.push(f as Call)
  }
  return Effect.void
}

/** Python's plain `map`: every call submitted up front, results read in order. */
const eager = (
  units: Iterable<unknown>,
  submitUnit: (unit: unknown, context: Context.Context<never>) => Submitted,
  resultOf: (call: Call) => Effect.Effect<unknown, unknown>
): Stream.Stream<unknown, unknown> => {
  const submitted: Array<Call> = []
  let from: Feed | undefined
  return Stream.unwrap(
    Effect.withFiber((fiber) => {
      from = { iterator: units[Symbol.iterator](), submitUnit, push: (call) => submitted.push(call), exhausted: false }
      return Effect.as(feed(from, Number.POSITIVE_INFINITY, fiber.context), inOrder(submitted, resultOf))
    })
  ).pipe(Stream.ensuring(Effect.suspend(() => close(from, submitted))))
}

/** A map's end: its iterator closed if it was still being read, and the calls not consumed cancelled. */
const close = (from: Feed | undefined, calls: ReadonlyArray<Call>): Effect.Effect<void> => {
  if (from !== undefined && !from.exhausted) {
    from.exhausted = true
    from.iterator.return?.()
  }
  return cancelUnfinished(calls)
}

/** Cancels the calls the stream did not consume; a finished one needs no Effect of its own. */
const cancelUnfinished = (calls: ReadonlyArray<Call>): Effect.Effect<void> => {
  const unfinished = calls.filter((call) => exitOf(call) === undefined)
  return unfinished.length === 0 ? Effect.void : Effect.forEach(unfinished, cancelCall, { discard: true })
}

/** The most results one pull gives, as `Stream.fromIterable`: a chunk small enough to be allocated young. */
const maxChunk = Stream.DefaultChunkSize

/**
 * Python 3.14's `map` with `buffersize`: `buffersize` calls submitted at the first pull, then one
 * more for each result taken, results read in order. A pull takes the next result and every
 * finished one after it, so a fast pool hands over many results per pull, and submits one call
 * for each result taken since the last pull; no fiber per call.
 */
const bounded = (
  units: Iterable<unknown>,
  buffersize: number,
  submitUnit: (unit: unknown, context: Context.Context<never>) => Submitted,
  resultOf: (call: Call) => Effect.Effect<unknown, unknown>
): Stream.Stream<unknown, unknown> => {
  const ahead = new Fifo<Call>()
  let from: Feed | undefined
  /** Results handed over in the last chunk beyond its first: their calls are submitted at the next pull. */
  let owed = 0
  const pull = Effect.withFiber<Arr.NonEmptyReadonlyArray<unknown>, unknown>((fiber) => {
    const context = fiber.context
    // As Python: one more call is submitted, then the oldest one's result is waited for; a
    // submit that fails leaves the oldest in `ahead`, to be cancelled as the stream ends. The
    // calls for the rest of the last chunk go now too: the consumer has taken those results.
    const n = owed + 1
    owed = 0
    return Effect.andThen(
      feed(from!, n, context),
      Effect.suspend(() => {
        const head = ahead.shift()
        if (head === undefined) return Cause.done()
        return Effect.flatMap(
          Effect.onInterrupt(resultOf(head), () => cancelCall(head)),
          (first) => {
            // Every finished result behind it goes in the same chunk.
            const values: Arr.NonEmptyArray<unknown> = [first]
            for (let next = ahead.peek(); next !== undefined; next = ahead.peek()) {
              const exit = exitOf(next)
              if (exit === undefined || !Exit.isSuccess(exit)) break
              values.push(exit.value)
              ahead.shift()
            }
            owed = values.length - 1
            return Effect.succeed(values)
          }
        )
      })
    )
  })
  return Stream.fromPull(
    Effect.withFiber((fiber) => {
      from = { iterator: units[Symbol.iterator](), submitUnit, push: (call) => ahead.push(call), exhausted: false }
      return Effect.as(feed(from, buffersize, fiber.context), pull)
    })
  ).pipe(Stream.ensuring(Effect.suspend(() => close(from, ahead.drain()))))
}

/** The results of `futures` in order: each pull waits for the next one and takes every finished one after it. */
const inOrder = (
  calls: ReadonlyArray<Call>,
  resultOf: (call: Call) => Effect.Effect<unknown, unknown>
): Stream.Stream<unknown, unknown> =>
  Stream.fromPull(
    Effect.sync(() => {
      let next = 0
      const finishedRun = (first: unknown): Arr.NonEmptyReadonlyArray<unknown> => {
        const values: Arr.NonEmptyArray<unknown> = [first]
        while (next < calls.length && values.length < maxChunk) {
          const exit = exitOf(calls[next])
          if (exit === undefined || !Exit.isSuccess(exit)) break
          values.push(exit.value)
          next++
        }
        return values
      }
      return Effect.suspend(() => {
        if (next === calls.length) return Cause.done()
        return Effect.map(resultOf(calls[next++]), finishedRun)
      })
    })
  )

const cancelCall = (call: Call): Effect.Effect<void> =>
  Effect.suspend(() => (isFuture(call) && core.cancelUnsafe(call) ? core.doneCallbacks(call) : Effect.void))
