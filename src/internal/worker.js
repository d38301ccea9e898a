/**
 * The entry of every pool worker, thread or child process: the package's
 * `effect-futures/worker` export and the platform's default entry. It turns
 * on V8's compile cache before the worker loads anything else, so a worker
 * started after the first compiles neither Effect nor the task modules again
 * (Node keeps the cache in `os.tmpdir()`; `NODE_DISABLE_COMPILE_CACHE=1` turns
 * it off), then starts the worker's main role. Plain JavaScript, in the source
 * tree too: a TypeScript entry would be stripped of its types before the cache
 * is on, and that first strip costs each worker tens of milliseconds.
 *
 * @internal
 */
import * as Module from "node:module"

// Where the runtime has no compile cache (Bun, Deno, older Node), the worker starts without one.
Module.enableCompileCache?.()

await import("./worker/main.ts")
