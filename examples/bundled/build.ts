/**
 * Bundles the example with esbuild: `npx node examples/bundled/build.ts OUTDIR`, then
 * `npx node OUTDIR/main.js`. Three entry points: the program, its task module and
 * the worker entry (in a project: `worker: "effect-futures/worker"`), split so
 * they share one copy of Effect, with the task module left as a file of its own
 * that the program imports (`external`), so its tasks keep their own URL.
 *
 * `--inline-tasks` bundles the task module into the program instead: the
 * mistake docs/bundling.md warns about, which the pool refuses at once.
 */
import * as esbuild from "esbuild"

const [outdir = "dist-bundled", ...flags] = process.argv.slice(2)
const inline = flags.includes("--inline-tasks")
const here = (path: string) => new URL(path, import.meta.url).pathname

await esbuild.build({
  entryPoints: {
    main: here("./main.ts"),
    ...(inline ? {} : { tasks: here("./tasks.ts") }),
    worker: here("../../src/internal/worker.js")
  },
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  outdir,
  external: inline ? [] : ["./tasks.js"],
  logLevel: "warning"
})
