/**
 * Python's ThreadPoolExecutor example from the `concurrent.futures` docs:
 * load several URLs at once and print each page's size as its future
 * completes.
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
 * Offline: the pages come from a local `node:http` server started on a free
 * port, each answering after a short delay, and one path is missing (404), so
 * one future fails. Loading is I/O, so the thread pool (fibers on the main
 * thread) is the right pool.
 *
 * Run it with `npm run example -- urls`.
 */
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { Console, Data, Effect, Result, Stream } from "effect"
import { type BrokenExecutor, Executor, Future, ThreadPoolExecutor } from "../src/index.ts"

/** path → [body size in bytes, how long the server takes to answer in ms] */
const pages: Record<string, readonly [bytes: number, delayMs: number]> = {
  "/": [12_480, 60],
  "/news": [48_213, 120],
  "/weather": [3_071, 30],
  "/sports": [27_904, 90],
  "/archive": [251_392, 150]
}

const paths = [...Object.keys(pages), "/missing"]

/** A local web server as a scoped resource: listening on acquire, closed on release. */
const server = Effect.acquireRelease(
  Effect.callback<Http.Server, Error>((resume) => {
    const server = Http.createServer((req, res) => {
      const page = pages[req.url ?? ""]
      const timer = setTimeout(() => {
        if (page === undefined) res.writeHead(404).end("Not Found")
        else res.writeHead(200, { "content-type": "text/html" }).end("x".repeat(page[0]))
      }, page?.[1] ?? 10)
      req.on("close", () => clearTimeout(timer))
    })
    server.once("error", (error) => resume(Effect.fail(error)))
    server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
  }),
  (server) =>
    Effect.callback<void>((resume) => {
      server.closeAllConnections()
      server.close(() => resume(Effect.void))
    })
)

class LoadError extends Data.TaggedError("LoadError")<{ readonly message: string }> {}

/** Python's `load_url(url, timeout)`: the page's bytes, or a `LoadError`. */
const loadUrl = (url: string, timeoutMs: number) =>
  Effect.tryPromise({
    // `signal` aborts the request if the task is interrupted.
    try: async (signal) => {
      const response = await fetch(url, { signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) })
      if (!response.ok) throw new Error(`HTTP Error ${response.status}: ${response.statusText}`)
      return response.bytes()
    },
    catch: (error) => new LoadError({ message: error instanceof Error ? error.message : String(error) })
  })

const main = Effect.gen(function* () {
  const { port } = (yield* server).address() as AddressInfo
  const urls = paths.map((path) => `http://127.0.0.1:${port}${path}`)

  // future_to_url = {executor.submit(load_url, url, 60): url for url in URLS}
  const futureToUrl = new Map<Future.Future<Uint8Array, LoadError | BrokenExecutor>, string>()
  for (const url of urls) futureToUrl.set(yield* Executor.submit(loadUrl, url, 60_000), url)

  // for future in as_completed(future_to_url): ...
  yield* Future.asCompleted(futureToUrl.keys()).pipe(
    Stream.runForEach((future) =>
      Effect.gen(function* () {
        const url = futureToUrl.get(future)!
        const data = yield* Effect.result(Future.result(future))
        yield* Console.log(
          Result.isSuccess(data)
            ? `'${url}' page is ${data.success.byteLength} bytes`
            : `'${url}' generated an exception: ${data.failure.message}`
        )
      })
    )
  )
}).pipe(
  // with ThreadPoolExecutor(max_workers=5) as executor:
  Effect.provide(ThreadPoolExecutor.layer({ maxWorkers: 5 })),
  Effect.scoped
)

Effect.runPromise(main)
