/**
 * Runs one example: `npm run example -- NAME [args...]` runs `examples/NAME.ts`
 * with the remaining arguments. With no name, or one that is not an example,
 * it lists the examples and exits with code 2.
 *
 * An example is any `examples/*.ts` file but this one; task modules, which
 * workers import, live in `examples/tasks/`.
 */
import { readdirSync } from "node:fs"

const directory = new URL("./", import.meta.url)

/** The examples' names, read from the directory so a new file is listed at once. */
const names = readdirSync(directory, { withFileTypes: true })
  .filter((entry) => entry.isFile() && entry.name.endsWith(".ts") && entry.name !== "run.ts")
  .map((entry) => entry.name.slice(0, -".ts".length))
  .sort()

const [name, ...rest] = process.argv.slice(2)

if (name === undefined || !names.includes(name)) {
  console.error(
    [
      name === undefined
        ? "Which example? Give its name:"
        : `There is no example named ${JSON.stringify(name)}. Try one of:`,
      "",
      ...names.map((n) => `  npm run example -- ${n}`),
      ""
    ].join("\n")
  )
  process.exit(2)
}

// The example reads its own arguments from process.argv, as if it had been started directly.
process.argv.splice(2, process.argv.length - 2, ...rest)
await import(new URL(`${name}.ts`, directory).href)
