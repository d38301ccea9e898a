/**
 * An HTTP server that keeps its event loop free by offloading CPU-bound work
 * to an `InterpreterPoolExecutor` held in a layer: `GET /primes/:below` counts
 * the primes below a number on a worker thread and answers with JSON.
 *
 * Python's docs have no server example; this is the usual reason to hold a
 * pool for a program's whole life, as a web app holds a
 * `ProcessPoolExecutor` and hands it `loop.run_in_executor(pool, fn, arg)`.
 * Here the pool is a layer, built once when the server starts and shut down
 * (`shutdown({ wait: true })`) when it stops.
 *
 * By default the example starts the server on a free port, asks it a few
 * questions at once, prints the answers and exits. With `--serve` it keeps
 * serving on port 3000 (or `PORT`) until Ctrl-C:
 *
 *     npm run example -- http-offload
 *     npm run example -- http-offload --serve
 *     curl http://localhost:3000/primes/10000000
 */
import * as Http from "node:http"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Console, Effect, Layer, Schema } from "effect"
import { FetchHttpClient, HttpClient, HttpRouter, HttpServer, HttpServerResponse } from "effect/http"
import { Executor, Future, InterpreterPoolExecutor } from "../src/index.ts"
import { countPrimes } from "./tasks/sieve.ts"

const PrimesParams = Schema.Struct({
  below: Schema.NumberFromString.check(Schema.isBetween({ minimum: 2, maximum: 100_000_000 }))
})

/** The route: parse the number, run the sieve on a worker, answer with JSON. */
const PrimesRoute = HttpRouter.add(
  "GET",
  "/primes/:below",
  Effect.gen(function* () {
    const { below } = yield* HttpRouter.schemaPathParams(PrimesParams)
    const future = yield* Executor.submit(countPrimes, below)
    const { count, threadId } = yield* Future.result(future)
    return HttpServerResponse.jsonUnsafe({ below, primes: count, workerThread: threadId })
  }).pipe(
    Effect.catchTag("SchemaError", () =>
      Effect.succeed(HttpServerResponse.text("below must be a number from 2 to 100000000\n", { status: 400 }))
    )
  )
)

/** The app: its routes, with the executor every request uses, built once for the server's life. */
const App = PrimesRoute.pipe(HttpRouter.provideRequest(InterpreterPoolExecutor.layer({ maxWorkers: 2 })))

/** The server on `port` (0: a free one); `quiet` turns off the request and listen logs. */
const server = (port: number, quiet: boolean) =>
  HttpRouter.serve(App, { disableLogger: quiet, disableListenLog: quiet }).pipe(
    Layer.provideMerge(NodeHttpServer.layer(() => Http.createServer(), { port, host: "127.0.0.1" }))
  )

/** Starts the server on a free port, asks it a few things at once, prints the answers. */
const demo = Effect.gen(function* () {
  const { address } = yield* HttpServer.HttpServer
  const base = HttpServer.formatAddress(address)
  yield* Console.log(`listening on ${base}`)
  const client = yield* HttpClient.HttpClient
  const paths = ["/primes/1000000", "/primes/2000000", "/primes/3000000", "/primes/4000000", "/primes/nope"]
  const answers = yield* Effect.forEach(
    paths,
    (path) =>
      client
        .get(`${base}${path}`)
        .pipe(Effect.flatMap((response) => Effect.map(response.text, (body) => `${response.status} ${body.trim()}`))),
    { concurrency: "unbounded" }
  )
  for (const [i, path] of paths.entries()) yield* Console.log(`GET ${path} -> ${answers[i]}`)
}).pipe(Effect.provide(Layer.merge(server(0, true), FetchHttpClient.layer)))

if (process.argv.includes("--serve")) {
  const port = Number(process.env.PORT ?? 3000)
  NodeRuntime.runMain(Layer.launch(server(port, false)))
} else {
  NodeRuntime.runMain(demo)
}
