/**
 * The executors' task spans and metrics, exported with `@effect/opentelemetry`
 * to the console. Three files go through two pools inside one
 * `Effect.withSpan("main")`: each is hashed by worker threads (an
 * `InterpreterPoolExecutor` named `checksums`), then "uploaded" by a
 * `ThreadPoolExecutor` named `uploads`.
 *
 * - Every task runs in a span of the caller's trace,
 *   `effect-futures.task checksum` and `effect-futures.task upload`, children
 *   of `main`, with the executor's name, the worker and the queue wait as
 *   attributes.
 * - The checksum task makes a span of its own in the worker thread
 *   (`checksum.hash`): it is recorded there and replayed here under its task
 *   span, in the same trace, so the chain `main` → task span → `checksum.hash`
 *   crosses the worker. The upload task's `upload.put` span is a child of its
 *   task span the same way, on the main thread.
 * - `ConsoleSpanExporter` prints each span as it ends (children first), with
 *   its `traceId`, its `parentSpanContext` and its own `id`.
 * - At the end, while both pools are still open, the metric reader is flushed
 *   and `ConsoleMetricExporter` prints every series the executors keep
 *   (`effect_futures_tasks_submitted`, `..._tasks_completed`, queue depth,
 *   busy and idle workers, queue wait and run time histograms), each with
 *   `executor.kind` and `executor.name` attributes.
 *
 * Beyond Python: `concurrent.futures` has no tracing or metrics. The library
 * reports through Effect's own `Tracer` and metric registry, so any exporter
 * given to Effect sees them; here that is OpenTelemetry's SDK, through
 * `@effect/opentelemetry`'s `NodeSdk.layer` (see `docs/observability.md`).
 *
 * Run it with `npm run example -- observability`.
 */
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import { ConsoleMetricExporter, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics"
import { ConsoleSpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Console, Effect } from "effect"
import { Future, InterpreterPoolExecutor, ThreadPoolExecutor } from "../src/index.ts"
import { checksum } from "./tasks/checksum.ts"

/** The files to hash and upload, with their sizes in bytes. */
const FILES: ReadonlyArray<readonly [file: string, bytes: number]> = [
  ["report.pdf", 200_000],
  ["photo.jpg", 800_000],
  ["notes.txt", 20_000]
]

/** Exports on demand: the example flushes it once, before the pools close and their series go. */
const metricReader = new PeriodicExportingMetricReader({
  exporter: new ConsoleMetricExporter(),
  exportIntervalMillis: 60_000
})

/** OpenTelemetry's SDK as Effect's tracer and a reader of Effect's metric registry. */
const Telemetry = NodeSdk.layer(() => ({
  resource: { serviceName: "effect-futures-example" },
  spanProcessor: new SimpleSpanProcessor(new ConsoleSpanExporter()), // prints each span as it ends
  metricReader
}))

/** A stand-in for an upload, I/O-bound: a thread-pool task whose span is a child of its task span. */
const upload = (file: string, digest: string) =>
  Effect.sleep("20 millis").pipe(
    Effect.as(`${file}: sha256 ${digest.slice(0, 16)}…, uploaded`),
    Effect.withSpan("upload.put", { attributes: { "file.name": file } })
  )

const main = Effect.gen(function* () {
  const checksums = yield* InterpreterPoolExecutor.make({ maxWorkers: 2, name: "checksums" })
  const uploads = yield* ThreadPoolExecutor.make({ maxWorkers: 2, name: "uploads" })

  /** Hashes a file in a worker thread, then uploads it from the thread pool. */
  const processFile = ([file, bytes]: readonly [string, number]) =>
    Effect.gen(function* () {
      const digest = yield* Future.result(yield* checksums.submit(checksum, file, bytes))
      return yield* Future.result(yield* uploads.submit(upload, file, digest))
    })

  yield* Console.log("== spans (ConsoleSpanExporter), each printed as it ends ==")
  const done = yield* Effect.forEach(FILES, processFile, { concurrency: "unbounded" }).pipe(Effect.withSpan("main"))
  yield* Console.log("== results ==")
  for (const line of done) yield* Console.log(line)

  // The pools' series leave the registry when the pools close: export them now.
  yield* Console.log("== metrics (ConsoleMetricExporter) ==")
  yield* Effect.promise(() => metricReader.forceFlush())
}).pipe(
  Effect.scoped, // closes both pools
  Effect.provide(Telemetry)
)

Effect.runPromise(main)
