/**
 * The ThreadPoolExecutor example from Python's `concurrent.futures` docs,
 * made real and offline:
 *
 * ```python
 * with concurrent.futures.ThreadPoolExecutor(max_workers=5) as executor:
 *     future_to_url = {executor.submit(load_url, url, 60): url for url in URLS}
 *     for future in concurrent.futures.as_completed(future_to_url):
 *         url = future_to_url[future]
 *         try:
 *             data = future.result()
 *         except Exception as exc:
 *             print('%r generated an exception: %s' % (url, exc))
 *         else:
 *             print('%r page is %d bytes' % (url, len(data)))
 * ```
 *
 * Instead of the internet, the demo serves a handful of pages from a local
 * `node:http` server: a few pages of different sizes that take a moment to
 * answer (as real servers do), a slow one, and a missing one (404). It loads
 * them all one by one, then through a 5-worker pool, and compares the times.
 *
 * Run it with `npm run demo`.
 */
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { availableParallelism } from "node:os"
import { Console, Data, Duration, Effect, Layer, Result, Stream } from "effect"
import { PRIMES } from "../examples/tasks/isPrime.ts"
import { isPrime } from "../examples/tasks/primes.ts"
import {
  type BrokenExecutor,
  Executor,
  Future,
  InterpreterPoolExecutor,
  ProcessPoolExecutor,
  ThreadPoolExecutor
} from "../src/index.ts"

// ---------------------------------------------------------------------------
// The pages: path → (body size in bytes, how long the server takes to answer)
// ---------------------------------------------------------------------------

interface Page {
  readonly bytes: number
  readonly delayMs: number
}

const pages: Record<string, Page> = {
  "/": { bytes: 12_480, delayMs: 120 },
  "/news": { bytes: 48_213, delayMs: 200 },
  "/weather": { bytes: 3_071, delayMs: 90 },
  "/sports": { bytes: 27_904, delayMs: 160 },
  "/archive": { bytes: 251_392, delayMs: 240 },
  "/slow": { bytes: 8_192, delayMs: 600 }
}

/** The paths the demo loads: every page above plus one the server does not have. */
const paths = [...Object.keys(pages), "/missing"]

// ---------------------------------------------------------------------------
// A local web server, as a scoped resource: listening on acquire, closed on release.
// ---------------------------------------------------------------------------

const handler: Http.RequestListener = (req, res) => {
  const page = pages[req.url ?? ""]
  const timer = setTimeout(() => {
    if (page === undefined) {
      res.writeHead(404, { "content-type": "text/plain" }).end("Not Found")
    } else {
      res.writeHead(200, { "content-type": "text/html" }).end("x".repeat(page.bytes))
    }
  }, page?.delayMs ?? 30)
  // A client that gives up (its timeout) should not leave a timer behind.
  req.on("close", () => clearTimeout(timer))
}

/** Starts the server on 127.0.0.1 with a free port and gives its base URL; closes it when the scope ends. */
const server = Effect.acquireRelease(
  Effect.callback<{ readonly server: Http.Server; readonly baseUrl: string }, Error>((resume) => {
    const server = Http.createServer(handler)
    server.once("error", (error) => resume(Effect.fail(error)))
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo
      resume(Effect.succeed({ server, baseUrl: `http://127.0.0.1:${port}` }))
    })
  }),
  ({ server }) =>
    Effect.callback<void>((resume) => {
      server.closeAllConnections()
      server.close(() => resume(Effect.void))
    })
)

// ---------------------------------------------------------------------------
// load_url: fetch a URL with a timeout, fail on anything but 2xx.
// ---------------------------------------------------------------------------

class LoadError extends Data.TaggedError("LoadError")<{ readonly url: string; readonly message: string }> {}

/** Python's `load_url(url, timeout)`: the page's bytes, or a `LoadError`. */
const loadUrl = (url: string, timeout: Duration.Input): Effect.Effect<Uint8Array, LoadError> =>
  Effect.tryPromise({
    // The signal aborts the request if the Effect is interrupted, or when the timeout expires.
    try: async (signal) => {
      const timeoutSignal = AbortSignal.timeout(Duration.toMillis(Duration.fromInputUnsafe(timeout)))
      const response = await fetch(url, { signal: AbortSignal.any([signal, timeoutSignal]) })
      if (!response.ok) throw new Error(`HTTP Error ${response.status}: ${response.statusText}`)
      return response.bytes()
    },
    catch: (error) =>
      new LoadError({
        url,
        message:
          error instanceof Error && error.name === "TimeoutError"
            ? `timed out after ${Duration.format(Duration.fromInputUnsafe(timeout))}`
            : error instanceof Error
              ? error.message
              : String(error)
      })
  })

const timeout: Duration.Input = "2 seconds"

// ---------------------------------------------------------------------------
// The two ways to load the URLs.
// ---------------------------------------------------------------------------

/** One line per URL, as Python's example prints it. */
const report = (url: string, result: Result.Result<Uint8Array, { readonly message: string }>) =>
  Console.log(
    Result.isSuccess(result)
      ? `  ${url} page is ${result.success.byteLength} bytes`
      : `  ${url} generated an exception: ${result.failure.message}`
  )

/** One URL after the other, in a plain loop: the baseline. */
const loadSequentially = (urls: ReadonlyArray<string>) =>
  Effect.forEach(
    urls,
    (url) =>
      loadUrl(url, timeout).pipe(
        Effect.result,
        Effect.flatMap((r) => report(url, r))
      ),
    {
      discard: true
    }
  )

/** The Python example: submit every URL, then print each result as its future completes. */
const loadWithPool = (urls: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    // future_to_url = {executor.submit(load_url, url, 60): url for url in URLS}
    const futureToUrl = new Map<Future.Future<Uint8Array, LoadError | BrokenExecutor>, string>()
    for (const url of urls) {
      futureToUrl.set(yield* Executor.submit(loadUrl, url, timeout), url)
    }
    // for future in as_completed(future_to_url): data = future.result() ...
    yield* Future.asCompleted(futureToUrl.keys()).pipe(
      Stream.runForEach((future) =>
        Future.result(future).pipe(
          Effect.result,
          Effect.flatMap((r) => report(futureToUrl.get(future)!, r))
        )
      )
    )
  }).pipe(
    // with ThreadPoolExecutor(max_workers=5) as executor:
    Effect.provide(ThreadPoolExecutor.layer({ maxWorkers: 5 }))
  )

/** Runs `effect` and gives how long it took, in milliseconds. */
const timed = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const start = performance.now()
    yield* effect
    return performance.now() - start
  })

// ---------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------

const urlsDemo = Effect.scoped(
  Effect.gen(function* () {
    const { baseUrl } = yield* server
    const urls = paths.map((path) => `${baseUrl}${path}`)
    yield* Console.log(`Serving ${urls.length} URLs from ${baseUrl}\n`)

    yield* Console.log("One by one:")
    const sequentialMs = yield* timed(loadSequentially(urls))

    yield* Console.log("\nThreadPoolExecutor({ maxWorkers: 5 }), as completed:")
    const poolMs = yield* timed(loadWithPool(urls))

    yield* Console.log(
      [
        "",
        `one by one:  ${sequentialMs.toFixed(0).padStart(5)} ms`,
        `with a pool: ${poolMs.toFixed(0).padStart(5)} ms  (${(sequentialMs / poolMs).toFixed(1)}x faster)`
      ].join("\n")
    )
  })
)

// ---------------------------------------------------------------------------
// Python's ProcessPoolExecutor example: is-prime over PRIMES, on every pool
// ---------------------------------------------------------------------------

/** `executor.map(is_prime, numbers)` on the pool in context, collected in order. */
const mapIsPrime = (numbers: ReadonlyArray<number>) => Executor.map(isPrime, numbers).pipe(Stream.runCollect)

/** Times `map` on a pool started and warmed beforehand, so start-up is not counted (it is printed apart). */
const onPool = (layer: Layer.Layer<Executor.Executor, unknown>, numbers: ReadonlyArray<number>) =>
  Effect.scoped(
    Effect.gen(function* () {
      const start = performance.now()
      const context = yield* Layer.build(layer)
      const run = (ns: ReadonlyArray<number>) => mapIsPrime(ns).pipe(Effect.provideContext(context))
      // One pass of PRIMES starts every worker, has each import the task module and warms its JIT.
      yield* run(PRIMES)
      const startup = performance.now() - start
      return { ms: yield* timed(run(numbers)), startup }
    })
  )

const primesDemo = Effect.gen(function* () {
  yield* Console.log("\nPython's ProcessPoolExecutor example: is-prime over PRIMES")
  for (const [number, prime] of PRIMES.map((n) => [n, isPrime.fn(n)] as const)) {
    yield* Console.log(`  ${number} is prime: ${prime ? "True" : "False"}`)
  }
  // Repeat PRIMES until one pass takes about a second when done one by one.
  const onePass = yield* timed(Effect.sync(() => PRIMES.map((n) => isPrime.fn(n))))
  const repeat = Math.max(1, Math.round(1000 / Math.max(1, onePass)))
  const numbers = Array.from({ length: repeat }, () => PRIMES).flat()
  const sequentialMs = yield* timed(Effect.sync(() => numbers.map((n) => isPrime.fn(n))))
  const cpus = availableParallelism()
  yield* Console.log(`\n${numbers.length} numbers (PRIMES x ${repeat}), ${cpus} CPUs:`)
  yield* Console.log(`  one by one:                            ${sequentialMs.toFixed(0).padStart(5)} ms`)
  for (const [name, layer] of [
    [`ProcessPoolExecutor({ maxWorkers: ${cpus} })`, ProcessPoolExecutor.layer({ maxWorkers: cpus })],
    [`InterpreterPoolExecutor({ maxWorkers: ${cpus} })`, InterpreterPoolExecutor.layer({ maxWorkers: cpus })]
  ] as const) {
    const result = yield* onPool(layer, numbers)
    yield* Console.log(
      `  ${name.padEnd(38)} ${result.ms.toFixed(0).padStart(5)} ms  ` +
        `(${(sequentialMs / result.ms).toFixed(2)}x speedup; workers started in ${result.startup.toFixed(0)} ms, not counted)`
    )
  }
})

Effect.runPromise(Effect.andThen(urlsDemo, primesDemo)).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
