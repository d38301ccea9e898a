/**
 * Observability, on the thread pool and both worker pools: task spans in the
 * caller's tracer (an in-memory one here), under the span that submitted
 * them, with the spans a task makes as their children, those made in a worker
 * included; no task spans when the caller has no tracer of its own; and the
 * metrics every executor registers, checked in a metric snapshot after tasks
 * with known outcomes.
 */
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Metric, Option, type Tracer } from "effect"
import {
  BrokenExecutor,
  Executor,
  Future,
  InterpreterPoolExecutor,
  Observability,
  ProcessPoolExecutor,
  ThreadPoolExecutor
} from "../src/index.ts"
import { memoryTracer } from "./fixtures/memoryTracer.ts"
import * as traced from "./fixtures/traced.ts"

/** Every wait is bounded, so a hang fails fast. */
const timeout = "10 seconds"

const parentId = (span: Tracer.AnySpan): string | undefined => {
  if (span._tag !== "Span") return undefined
  return Option.getOrUndefined(span.parent)?.spanId
}

const named = (spans: ReadonlyArray<Tracer.NativeSpan>, name: string): Tracer.NativeSpan => {
  const found = spans.filter((span) => span.name === name)
  expect(found.map((span) => span.name)).toEqual([name])
  return found[0]
}

const exitOf = (span: Tracer.Span): Exit.Exit<unknown, unknown> => {
  expect(span.status._tag).toBe("Ended")
  return (span.status as Extract<Tracer.SpanStatus, { _tag: "Ended" }>).exit
}

/** Checks the task span of `taskName`: under `caller`, in its trace, with the executor's attributes. */
const taskSpan = (
  spans: ReadonlyArray<Tracer.NativeSpan>,
  caller: Tracer.Span,
  taskName: string,
  executor: { readonly kind: string; readonly name: string }
): Tracer.NativeSpan => {
  const span = named(spans, Observability.taskSpanName(taskName))
  expect(span.name).toBe(`effect-futures.task ${taskName}`)
  expect(parentId(span)).toBe(caller.spanId)
  expect(span.traceId).toBe(caller.traceId)
  expect(span.attributes.get(Observability.TaskNameAttribute)).toBe(taskName)
  expect(span.attributes.get(Observability.ExecutorKindAttribute)).toBe(executor.kind)
  expect(span.attributes.get(Observability.ExecutorNameAttribute)).toBe(executor.name)
  expect(span.attributes.get(Observability.QueueWaitAttribute)).toBeGreaterThanOrEqual(0)
  expect(span.status._tag).toBe("Ended")
  return span
}

/** The series of one executor in a metric snapshot, by metric id (and outcome). */
const seriesOf =
  (snapshots: ReadonlyArray<Metric.Metric.Snapshot>, name: string) =>
  (id: string, outcome?: Observability.Outcome): Metric.Metric.Snapshot => {
    const found = snapshots.filter(
      (s) =>
        s.id === id &&
        s.attributes?.[Observability.ExecutorNameAttribute] === name &&
        s.attributes?.[Observability.OutcomeAttribute] === outcome
    )
    expect(found.length).toBe(1)
    return found[0]
  }

const count = (snapshot: Metric.Metric.Snapshot): number => (snapshot.state as Metric.CounterState<number>).count
const value = (snapshot: Metric.Metric.Snapshot): number => (snapshot.state as Metric.GaugeState<number>).value
const histogram = (snapshot: Metric.Metric.Snapshot): Metric.HistogramState => snapshot.state as Metric.HistogramState

/** The completed counts of every outcome, and the submitted count, of one executor. */
const outcomeCounts = (snapshots: ReadonlyArray<Metric.Metric.Snapshot>, name: string) => {
  const series = seriesOf(snapshots, name)
  const counts: Record<string, number> = { submitted: count(series("effect_futures_tasks_submitted")) }
  for (const outcome of Observability.outcomes)
    counts[outcome] = count(series("effect_futures_tasks_completed", outcome))
  return counts
}

describe("ThreadPoolExecutor observability", () => {
  it.live("runs each task in a span under the submitting span; spans the task makes are its children", () => {
    const { spans, layer } = memoryTracer()
    const executor = { kind: "ThreadPool", name: "traced-threads" }
    const addOne = (n: number) => n + 1
    const fails = (): number => {
      throw new RangeError("fails")
    }
    const later = async (n: number) => n
    return Effect.gen(function* () {
      const caller = yield* Effect.gen(function* () {
        const futures = [
          yield* Executor.submit(addOne, 1),
          yield* Executor.submit(Effect.succeed(2).pipe(Effect.delay(10), Effect.withSpan("made by the task"))),
          yield* Executor.submit(fails),
          yield* Executor.submit(later, 4)
        ]
        const exits = yield* Effect.forEach(futures, (f) => Future.await(f).pipe(Effect.timeout(timeout)))
        expect(exits.map((exit) => exit._tag)).toEqual(["Success", "Success", "Failure", "Success"])
        return yield* Effect.currentSpan
      }).pipe(Effect.withSpan("caller"))

      taskSpan(spans, caller, "addOne", executor)
      taskSpan(spans, caller, "later", executor)
      const effectSpan = taskSpan(spans, caller, "effect", executor)
      for (const span of spans.filter((s) => s.name.startsWith("effect-futures.task"))) {
        expect(span.attributes.get(Observability.WorkerIdAttribute)).toMatch(/^traced-threads_\d+$/)
      }
      const inner = named(spans, "made by the task")
      expect(parentId(inner)).toBe(effectSpan.spanId)
      expect(inner.traceId).toBe(caller.traceId)
      expect(Exit.hasDies(exitOf(taskSpan(spans, caller, "fails", executor)))).toBe(true)
    }).pipe(Effect.provide(ThreadPoolExecutor.layer({ maxWorkers: 2, name: executor.name })), Effect.provide(layer))
  })

  it.live("makes no task spans when tracing is turned off", () => {
    const { spans, layer } = memoryTracer()
    return Effect.gen(function* () {
      const future = yield* Executor.submit(Effect.succeed(1).pipe(Effect.withSpan("made by the task")))
      expect(yield* Future.result(future, { timeout })).toBe(1)
      expect(spans.filter((span) => span.name.startsWith("effect-futures.task"))).toEqual([])
    }).pipe(
      Effect.withSpan("caller"),
      Effect.withTracerEnabled(false),
      Effect.provide(ThreadPoolExecutor.layer({ maxWorkers: 1 })),
      Effect.provide(layer)
    )
  })

  it.live("makes no task spans with Effect's default tracer: a task sees the submitting span as its own", () =>
    Effect.gen(function* () {
      const future = yield* Executor.submit(Effect.map(Effect.currentSpan, (span) => span.name))
      expect(yield* Future.result(future, { timeout })).toBe("caller")
    }).pipe(Effect.withSpan("caller"), Effect.provide(ThreadPoolExecutor.layer({ maxWorkers: 1 })))
  )

  it.live("counts tasks by outcome, and reports queue depth, busy and idle workers and timings", () =>
    Effect.gen(function* () {
      const name = "metrics-threads"
      const release = yield* Deferred.make<void>()
      const snapshot = Effect.flatMap(Metric.snapshot, (snapshots) => Effect.succeed(seriesOf(snapshots, name)))
      yield* Effect.gen(function* () {
        const executor = yield* Executor.Executor
        expect(executor.name).toBe(name)
        const addOne = (n: number) => n + 1
        for (const n of [1, 2, 3])
          expect(yield* Future.result(yield* executor.submit(addOne, n), { timeout })).toBe(n + 1)
        const failed = yield* executor.submit(Effect.fail("typed failure"))
        const died = yield* executor.submit(() => {
          throw new RangeError("defect")
        })
        yield* Effect.forEach([failed, died], (f) => Future.await(f).pipe(Effect.timeout(timeout)))

        const blocker = yield* executor.submit(Deferred.await(release))
        const queued = yield* executor.submit(addOne, 0)
        const busy = yield* snapshot
        expect(value(busy("effect_futures_queue_depth"))).toBe(1)
        expect(value(busy("effect_futures_workers_busy"))).toBe(1)
        expect(value(busy("effect_futures_workers_idle"))).toBe(0)
        expect(yield* Future.cancel(queued)).toBe(true)
        yield* Deferred.succeed(release, undefined)
        yield* Future.result(blocker, { timeout })

        // The counter a user reads for this executor through its attributes.
        const submitted = Metric.withAttributes(Observability.tasksSubmitted, Observability.attributes(executor))
        expect((yield* Metric.value(submitted)).count).toBe(7)
        const series = yield* snapshot
        expect(outcomeCounts(yield* Metric.snapshot, name)).toEqual({
          submitted: 7,
          success: 4,
          failure: 1,
          defect: 1,
          cancelled: 1,
          broken: 0
        })
        expect(value(series("effect_futures_queue_depth"))).toBe(0)
        expect(value(series("effect_futures_workers_busy"))).toBe(0)
        expect(value(series("effect_futures_workers_idle"))).toBe(1)
        // Every task that started waited (0 for those a worker took at once); the cancelled one never started.
        const waited = histogram(series("effect_futures_task_queue_wait_ms"))
        expect(waited.count).toBe(6)
        expect(waited.min).toBeGreaterThanOrEqual(0)
        // Run times are of the tasks that ran in a fiber (the two Effects); direct calls are not timed.
        const ran = histogram(series("effect_futures_task_run_ms"))
        expect(ran.count).toBe(2)
        expect(ran.buckets.map(([boundary]) => boundary)).toEqual(Observability.millisBoundaries)
        expect(ran.buckets[ran.buckets.length - 1][1]).toBe(2)
      }).pipe(Effect.provide(ThreadPoolExecutor.layer({ maxWorkers: 1, name })))

      // A failed initializer breaks the pool: its future ends `broken`.
      const brokenName = "metrics-threads-broken"
      yield* Effect.gen(function* () {
        const exit = yield* Future.await(yield* Executor.submit(() => 1)).pipe(Effect.timeout(timeout))
        expect(
          Exit.isFailure(exit) && exit.cause.reasons.some((r) => r._tag === "Fail" && r.error instanceof BrokenExecutor)
        ).toBe(true)
        expect(outcomeCounts(yield* Metric.snapshot, brokenName)).toMatchObject({ submitted: 1, broken: 1 })
      }).pipe(
        Effect.provide(ThreadPoolExecutor.layer({ maxWorkers: 1, name: brokenName, initializer: Effect.fail("no") }))
      )

      // A closed executor's series are gone.
      const closed = yield* Metric.snapshot
      expect(closed.filter((s) => s.attributes?.[Observability.ExecutorNameAttribute] === name)).toEqual([])
    }).pipe(Effect.provideService(Metric.MetricRegistry, new Map()))
  )

  it.effect("names executors ThreadPoolExecutor-<k> unless told", () =>
    Effect.gen(function* () {
      const executor = yield* Effect.scoped(ThreadPoolExecutor.make())
      expect(executor.name).toMatch(/^ThreadPoolExecutor-\d+$/)
      const error = yield* Effect.flip(Effect.scoped(ThreadPoolExecutor.make({ name: 42 as any })))
      expect(error.message).toBe("ThreadPoolExecutor: name must be a string, got 42")
    })
  )
})

const workerPools = [
  { pool: "InterpreterPoolExecutor", kind: "InterpreterPool", layer: InterpreterPoolExecutor.layer },
  { pool: "ProcessPoolExecutor", kind: "ProcessPool", layer: ProcessPoolExecutor.layer }
] as const

for (const { pool, kind, layer: poolLayer } of workerPools) {
  describe(`${pool} observability`, () => {
    it.live("replays the spans a task makes in the worker as children of its task span, in the caller's trace", () => {
      const { spans, layer } = memoryTracer()
      const executor = { kind, name: `traced-${kind}` }
      return Effect.gen(function* () {
        const caller = yield* Effect.gen(function* () {
          const doubled = yield* Executor.submit(traced.doubleInSpans, 21)
          const failed = yield* Executor.submit(traced.failInSpan, "nope")
          const plain = yield* Executor.submit(traced.plain, 1)
          expect(yield* Future.result(doubled, { timeout })).toBe(42)
          expect(Exit.isFailure(yield* Future.await(failed).pipe(Effect.timeout(timeout)))).toBe(true)
          expect(yield* Future.result(plain, { timeout })).toBe(1)
          return yield* Effect.currentSpan
        }).pipe(Effect.withSpan("caller"))

        const doubled = taskSpan(spans, caller, "doubleInSpans", executor)
        expect(typeof doubled.attributes.get(Observability.WorkerIdAttribute)).toBe("number")
        const outer = named(spans, "outer")
        const inner = named(spans, "inner")
        expect(parentId(outer)).toBe(doubled.spanId)
        expect(parentId(inner)).toBe(outer.spanId)
        for (const span of [outer, inner]) {
          expect(span.traceId).toBe(caller.traceId)
          expect(Exit.isSuccess(exitOf(span))).toBe(true)
        }
        expect(outer.attributes.get("input")).toBe(21)
        // A value structured clone refuses arrives as text.
        expect(typeof outer.attributes.get("callback")).toBe("string")
        expect(inner.attributes.get("n")).toBe(21)
        expect(inner.status._tag === "Ended" && inner.status.startTime <= inner.status.endTime).toBe(true)

        const failedSpan = taskSpan(spans, caller, "failInSpan", executor)
        expect(Exit.isFailure(exitOf(failedSpan))).toBe(true)
        const failing = named(spans, "failing")
        expect(parentId(failing)).toBe(failedSpan.spanId)
        expect(failing.traceId).toBe(caller.traceId)
        expect(Exit.isFailure(exitOf(failing))).toBe(true)

        const plain = taskSpan(spans, caller, "plain", executor)
        expect(spans.filter((span) => parentId(span) === plain.spanId)).toEqual([])
      }).pipe(Effect.provide(poolLayer({ maxWorkers: 1, name: executor.name })), Effect.provide(layer))
    })

    it.live("makes no task spans and replays none when tracing is turned off", () =>
      Effect.gen(function* () {
        const { spans, layer } = memoryTracer()
        const future = yield* Executor.submit(traced.doubleInSpans, 1).pipe(
          Effect.withSpan("caller"),
          Effect.withTracerEnabled(false),
          Effect.provide(layer)
        )
        expect(yield* Future.result(future, { timeout })).toBe(2)
        expect(spans.filter((span) => span.name !== "caller")).toEqual([])
      }).pipe(Effect.provide(poolLayer({ maxWorkers: 1 })))
    )

    it.live("counts tasks by outcome, and reports queue depth, busy and idle workers and timings", () =>
      Effect.gen(function* () {
        const name = `metrics-${kind}`
        const executor = yield* Executor.Executor
        expect(executor.name).toBe(name)
        const series = () => Effect.map(Metric.snapshot, (snapshots) => seriesOf(snapshots, name))
        for (const n of [1, 2, 3])
          expect(yield* Future.result(yield* executor.submit(traced.plain, n), { timeout })).toBe(n)
        const failed = yield* executor.submit(traced.failInSpan, "typed failure")
        const died = yield* executor.submit(traced.boom)
        yield* Effect.forEach([failed, died], (f) => Future.await(f).pipe(Effect.timeout(timeout)))

        // One worker, holding a call: the next call waits in the queue.
        const blocker = yield* executor.submit(traced.sleep, 300)
        const queued = yield* executor.submit(traced.plain, 0)
        const busy = yield* series()
        expect(value(busy("effect_futures_queue_depth"))).toBe(1)
        expect(value(busy("effect_futures_workers_busy"))).toBe(1)
        expect(value(busy("effect_futures_workers_idle"))).toBe(0)
        expect(yield* Future.cancel(queued)).toBe(true)
        expect(yield* Future.result(blocker, { timeout })).toBe(300)

        // A worker that exits breaks the pool: its future ends `broken`.
        const exited = yield* Future.await(yield* executor.submit(traced.exitWorker)).pipe(Effect.timeout(timeout))
        expect(Exit.isFailure(exited)).toBe(true)

        expect(outcomeCounts(yield* Metric.snapshot, name)).toEqual({
          submitted: 8,
          success: 4,
          failure: 1,
          defect: 1,
          cancelled: 1,
          broken: 1
        })
        const ended = yield* series()
        // Every call sent to a worker waited and ran; the cancelled one was never sent.
        expect(histogram(ended("effect_futures_task_queue_wait_ms")).count).toBe(7)
        const ran = histogram(ended("effect_futures_task_run_ms"))
        expect(ran.count).toBe(7)
        expect(ran.max).toBeGreaterThanOrEqual(ran.min)
        expect(value(ended("effect_futures_queue_depth"))).toBe(0)
      }).pipe(
        Effect.provide(poolLayer({ maxWorkers: 1, name: `metrics-${kind}` })),
        Effect.provideService(Metric.MetricRegistry, new Map())
      )
    )

    it.effect(`names executors ${pool}-<k> unless told`, () =>
      Effect.gen(function* () {
        const executor = yield* Executor.Executor
        expect(executor.name).toMatch(new RegExp(`^${pool}-\\d+$`))
      }).pipe(Effect.provide(poolLayer({ maxWorkers: 1 })))
    )
  })
}
