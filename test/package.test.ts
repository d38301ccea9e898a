/**
 * The package as a user gets it: `npm pack` (which builds `dist/` first), the
 * tarball installed into a fresh project next to another version of `effect`
 * than the one this repository develops with, then used as an app would use
 * it: test/consumer/smoke.mjs, plain JavaScript, under Node, Bun and Deno,
 * and test/consumer/main.ts, strict TypeScript (`module: nodenext`), checked
 * by `tsc --noEmit` and run by Node. Every command runs in its own process
 * with a deadline. The consumer's install needs the npm registry.
 */
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { builtinModules } from "node:module"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Run, runCommand } from "./fixtures/commands.ts"

const root = fileURLToPath(new URL("..", import.meta.url))
const bin = (name: string) => join(root, "node_modules", ".bin", name)
const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8"))

/**
 * The consumer's `effect`: the lowest version the peer range allows (4.0.6 is
 * the first with `Metric.registerUnsafe`), while this repository develops
 * against 4.1.0.
 */
const CONSUMER_EFFECT = "4.0.6"

const SETUP_DEADLINE_MS = 240_000
const DEADLINE_MS = 90_000

// npm's own variables (set when the suite runs under `npm test`) would steer the nested npm to this repository.
const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("npm_")))

/** Runs `command` in `cwd`; kills it and rejects if it has not exited by the deadline. */
const run = (command: string, args: ReadonlyArray<string>, cwd: string, deadline = DEADLINE_MS): Promise<Run> =>
  runCommand(command, args, { cwd, env: { ...env, DENO_NO_UPDATE_CHECK: "1" }, deadlineMs: deadline })

/** Runs `command` and checks it exited 0; returns its output. */
const runOk = async (command: string, args: ReadonlyArray<string>, cwd: string, deadline?: number): Promise<Run> => {
  const result = await run(command, args, cwd, deadline)
  expect(result.code, `${command} ${args.join(" ")}\n${result.stdout}\n${result.stderr}`).toBe(0)
  return result
}

/** Every `.js` file under `dir`. */
const jsFiles = (dir: string): Array<string> =>
  readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".js"))
    .map((entry) => join(entry.parentPath, entry.name))

/**
 * The packages that `dist/`'s JavaScript imports: every bare specifier but
 * Node's built-ins, outside comments (the doc examples import more).
 */
const importedPackages = (dist: string): Array<string> => {
  const names = new Set<string>()
  for (const file of jsFiles(dist)) {
    const code = readFileSync(file, "utf8")
      .replace(/\/\*[\s\S]*?\*\//g, "")
      .replace(/^\s*\/\/.*$/gm, "")
    for (const [, specifier] of code.matchAll(/(?:from|import)\s*\(?\s*"([^".][^"]*)"/g)) {
      if (specifier.startsWith("node:") || builtinModules.includes(specifier)) continue
      const parts = specifier.split("/")
      names.add(specifier.startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]!)
    }
  }
  return [...names].sort()
}

let work: string
let consumer: string
let packed: ReadonlyArray<string>

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "effect-futures-package-"))
  const pack = await runOk("npm", ["pack", "--json", "--pack-destination", work], root, SETUP_DEADLINE_MS / 2)
  const [tarball] = JSON.parse(pack.stdout) as ReadonlyArray<{
    filename: string
    files: ReadonlyArray<{ path: string }>
  }>
  packed = tarball!.files.map((file) => file.path)
  consumer = join(work, "consumer")
  cpSync(fileURLToPath(new URL("consumer/", import.meta.url)), consumer, { recursive: true })
  writeFileSync(
    join(consumer, "package.json"),
    JSON.stringify({
      name: "consumer",
      private: true,
      type: "module",
      dependencies: {
        "effect-futures": `file:../${tarball!.filename}`,
        effect: CONSUMER_EFFECT,
        "@types/node": manifest.devDependencies["@types/node"]
      }
    })
  )
  await runOk("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline"], consumer, SETUP_DEADLINE_MS / 2)
}, SETUP_DEADLINE_MS)

afterAll(() => {
  if (work !== undefined) rmSync(work, { recursive: true, force: true })
})

/** The smoke script's checks: six per pool, all passed. */
const expectSmokePassed = (result: Run) => {
  const lines = result.stdout.trim().split("\n")
  expect(lines.filter((line) => line.startsWith("ok "))).toHaveLength(18)
  expect(lines.at(-1)).toBe("smoke: 18 checks passed")
  expect(result.stderr).toBe("")
}

// Each test outlives its commands' deadlines, so a hung command fails with its own output.
describe("the package, installed in a fresh project", { timeout: DEADLINE_MS + 15_000 }, () => {
  it("npm pack builds dist/ first and ships it with the worker entry, README and LICENSE", () => {
    for (const file of ["dist/index.js", "dist/index.d.ts", "dist/internal/worker.js", "README.md", "LICENSE"]) {
      expect(packed).toContain(file)
    }
    expect(packed.filter((file) => !/^(dist|src)\/|^(README\.md|LICENSE|package\.json)$/.test(file))).toEqual([])
    expect(existsSync(join(consumer, "node_modules", "effect-futures", "dist", "internal", "worker.js"))).toBe(true)
  })

  it("names effect as a peer (the cluster's @effect/platform-node as an optional one), depends on nothing its code does not import, and links to its repository", () => {
    const installed = join(consumer, "node_modules", "effect-futures")
    const pkg = JSON.parse(readFileSync(join(installed, "package.json"), "utf8"))
    // @effect/platform-node only for effect-futures/ClusterExecutor: optional, so an app without the cluster has no copy.
    expect(pkg.peerDependencies).toEqual({
      effect: expect.stringMatching(/^\^4\./),
      "@effect/platform-node": expect.stringMatching(/^\^4\./)
    })
    expect(pkg.peerDependenciesMeta).toEqual({ "@effect/platform-node": { optional: true } })
    expect([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies)].sort()).toEqual(
      importedPackages(join(installed, "dist"))
    )
    expect(pkg.repository.url).toMatch(/^git\+https:\/\/github\.com\/[\w-]+\/[\w-]+\.git$/)
    expect(pkg.homepage).toMatch(/^https:\/\/github\.com\//)
    expect(pkg.bugs.url).toMatch(/^https:\/\/github\.com\/.*\/issues$/)
  })

  it("the shipped README links only to absolute addresses, each repository link to a file that exists", () => {
    const readme = readFileSync(join(consumer, "node_modules", "effect-futures", "README.md"), "utf8")
    const repository = manifest.repository.url.replace(/^git\+/, "").replace(/\.git$/, "")
    const links = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map(([, target]) => target!)
    expect(links.length).toBeGreaterThan(0)
    for (const link of links) {
      expect(link, "a relative link breaks on the npm page").toMatch(/^https:\/\//)
      if (link.startsWith(`${repository}/blob/main/`)) {
        const file = link.slice(`${repository}/blob/main/`.length).replace(/#.*$/, "")
        expect(existsSync(join(root, file)), link).toBe(true)
      }
    }
  })

  it("next to another version of effect, the app keeps a single copy of effect", () => {
    expect(CONSUMER_EFFECT).not.toBe(manifest.devDependencies.effect)
    expect(existsSync(join(consumer, "node_modules", "effect-futures", "node_modules"))).toBe(false)
    const effect = JSON.parse(readFileSync(join(consumer, "node_modules", "effect", "package.json"), "utf8"))
    expect(effect.version).toBe(CONSUMER_EFFECT)
  })

  it("effect-futures/Task, which task modules import, loads no executor and no Effect", async () => {
    const result = await runOk(process.execPath, ["taskModules.mjs"], consumer)
    expect(JSON.parse(result.stdout)).toEqual([
      "effect-futures/dist/Task.js",
      "effect-futures/dist/internal/reporter.js",
      "effect-futures/dist/internal/taskExports.js",
      "effect-futures/dist/internal/transfer.js"
    ])
  })

  it("a plain .mjs file runs the smoke suite on each pool under Node", async () => {
    expectSmokePassed(await runOk(process.execPath, ["smoke.mjs"], consumer))
  })

  it("strict TypeScript (module nodenext) type-checks against its declarations, then runs a task on each pool", async () => {
    await runOk(bin("tsc"), ["-p", "tsconfig.json"], consumer)
    const result = await runOk(process.execPath, ["main.ts"], consumer)
    expect(result.stdout.trim().split("\n")).toEqual([
      "ok ThreadPoolExecutor",
      "ok InterpreterPoolExecutor",
      "ok ProcessPoolExecutor",
      "typescript: every pool ran its task"
    ])
  })
})

describe("Bun and Deno", { timeout: DEADLINE_MS + 15_000 }, () => {
  it("Bun runs the smoke suite on each pool", async () => {
    expectSmokePassed(await runOk(bin("bun"), ["smoke.mjs"], consumer))
  })

  it("Deno runs the smoke suite on each pool", async () => {
    expectSmokePassed(await runOk(bin("deno"), ["run", "--allow-all", "smoke.mjs"], consumer))
  })
})
