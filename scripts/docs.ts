/**
 * Generates the API reference, `docs/api/*.md`, from the doc comments of
 * every export reachable from `src/index.ts` and the subpath modules: one page per module, plus an
 * index. `npm run docs` writes the pages; `npm run docs -- --check` writes
 * nothing and fails if a page is out of date.
 *
 * Either way it fails, listing them, if a public export has no doc comment or
 * no `@example`.
 *
 * Why not typedoc: it needs TypeScript's JavaScript compiler API, which the
 * native compiler (TypeScript 7) does not ship. This reads the sources as
 * text instead, relying on what biome's formatting guarantees: top-level
 * statements start in column 0 and their continuation lines are indented.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { fileURLToPath } from "node:url"

const root = new URL("../", import.meta.url)
const srcDir = new URL("src/", root)
const outDir = new URL("docs/api/", root)
const packageName = "effect-futures"

/** `Map.groupBy` (ES2024), keeping first-seen order. */
const groupBy = <A, K>(items: Iterable<A>, key: (a: A) => K): Map<K, Array<A>> => {
  const groups = new Map<K, Array<A>>()
  for (const item of items) {
    const k = key(item)
    const group = groups.get(k)
    if (group === undefined) groups.set(k, [item])
    else group.push(item)
  }
  return groups
}

// ---------------------------------------------------------------------------
// Doc comments
// ---------------------------------------------------------------------------

interface Doc {
  /** The text before the first tag, Markdown. */
  readonly description: string
  /** The `@example` blocks, each Markdown (usually one fenced code block). */
  readonly examples: ReadonlyArray<string>
  readonly category: string | undefined
  readonly since: string | undefined
  readonly internal: boolean
}

/** Parses `/** ... *\/` into its description and tags. A tag starts a line outside a code fence. */
const parseDoc = (comment: string): Doc => {
  const lines = comment
    .replace(/^\/\*\*/, "")
    .replace(/\*\/$/, "")
    .split("\n")
    .map((line) => line.replace(/^\s*\* ?/, "").replace(/\s+$/, ""))
  const sections: Array<{ tag: string; lines: Array<string> }> = [{ tag: "", lines: [] }]
  let fenced = false
  for (const line of lines) {
    const tag = fenced ? null : /^@(\w+)\s*(.*)$/.exec(line)
    if (tag) sections.push({ tag: tag[1]!, lines: tag[2] ? [tag[2]] : [] })
    else sections.at(-1)!.lines.push(line)
    if (/^\s*```/.test(line)) fenced = !fenced
  }
  const text = (section: { lines: Array<string> }) => section.lines.join("\n").trim()
  const tagText = (name: string) => {
    const found = sections.find((s) => s.tag === name)
    return found === undefined ? undefined : text(found)
  }
  return {
    description: text(sections[0]!),
    examples: sections.filter((s) => s.tag === "example").map(text),
    category: tagText("category"),
    since: tagText("since"),
    internal: sections.some((s) => s.tag === "internal")
  }
}

// ---------------------------------------------------------------------------
// Top-level statements
// ---------------------------------------------------------------------------

interface Statement {
  readonly text: string
  /** The doc comment right before it, if any. */
  readonly doc: string | undefined
}

/**
 * Blanks out strings, template literals and comments (same length, newlines
 * kept), so brackets and keywords can be found by position.
 */
const blankNonCode = (source: string): string => {
  let out = ""
  let i = 0
  const blank = (s: string) => s.replace(/[^\n]/g, " ")
  while (i < source.length) {
    const c = source[i]!
    const next = source[i + 1]
    if (c === "/" && next === "/") {
      const end = source.indexOf("\n", i)
      const stop = end === -1 ? source.length : end
      out += blank(source.slice(i, stop))
      i = stop
    } else if (c === "/" && next === "*") {
      const stop = source.indexOf("*/", i + 2) + 2
      out += blank(source.slice(i, stop))
      i = stop
    } else if (c === '"' || c === "'" || c === "`") {
      let j = i + 1
      while (j < source.length && source[j] !== c) j += source[j] === "\\" ? 2 : 1
      // Template literals with `${}` holding backticks do not occur at the top level of src.
      out += c + blank(source.slice(i + 1, j)) + c
      i = j + 1
    } else {
      out += c
      i++
    }
  }
  return out
}

/** The top-level statements that start with `export`, each with the doc comment right before it. */
const exportStatements = (source: string): Array<Statement> => {
  const code = blankNonCode(source)
  const lines = source.split("\n")
  const codeLines = code.split("\n")
  const statements: Array<Statement> = []
  let depth = 0
  const depthAtLine: Array<number> = []
  for (const line of codeLines) {
    depthAtLine.push(depth)
    for (const c of line) {
      if (c === "{" || c === "(" || c === "[") depth++
      else if (c === "}" || c === ")" || c === "]") depth--
    }
  }
  for (let i = 0; i < lines.length; i++) {
    if (depthAtLine[i] !== 0 || !/^export\b/.test(codeLines[i]!)) continue
    // The statement runs until a line at depth 0 that is not a continuation.
    let end = i + 1
    while (
      end < lines.length &&
      !(depthAtLine[end] === 0 && /^(?:[^\s})\]]|$)/.test(codeLines[end]!) && codeLines[end - 1]!.trim() !== "")
    ) {
      end++
    }
    while (end > i + 1 && lines[end - 1]!.trim() === "") end--
    statements.push({ text: lines.slice(i, end).join("\n"), doc: docBefore(lines, i) })
  }
  return statements
}

/** The `/** *\/` comment that ends on the line before `index` (blank lines not allowed between). */
const docBefore = (lines: ReadonlyArray<string>, index: number): string | undefined => {
  const end = index - 1
  if (end < 0 || !/\*\/\s*$/.test(lines[end]!)) return undefined
  let start = end
  while (start >= 0 && !/^\s*\/\*\*/.test(lines[start]!)) start--
  if (start < 0) return undefined
  return lines.slice(start, end + 1).join("\n")
}

/** The module's header: a doc comment at the very top of the file. */
const moduleHeader = (source: string): Doc | undefined => {
  const match = /^\s*(\/\*\*[\s\S]*?\*\/)/.exec(source)
  return match ? parseDoc(match[1]!) : undefined
}

// ---------------------------------------------------------------------------
// Declarations
// ---------------------------------------------------------------------------

interface Declaration {
  readonly name: string
  readonly kind: "const" | "function" | "class" | "interface" | "type" | "namespace"
  /** What the page shows in a code block. */
  readonly signature: string
  readonly doc: Doc | undefined
}

/**
 * Finds, in `text` from `from`, the first position at bracket depth 0 (angle
 * brackets included, `=>` excluded) where `stop` matches.
 */
const scanTo = (text: string, from: number, stop: (code: string, at: number) => boolean): number => {
  const code = blankNonCode(text)
  let depth = 0
  for (let i = from; i < code.length; i++) {
    const c = code[i]!
    if (depth === 0 && stop(code, i)) return i
    if (c === "(" || c === "[" || c === "{" || c === "<") depth++
    else if (c === ")" || c === "]" || c === "}" || (c === ">" && code[i - 1] !== "=")) depth--
  }
  return -1
}

const isAssignment = (code: string, at: number) => code[at] === "=" && code[at + 1] !== ">" && code[at + 1] !== "="

/** `export const name: T = ...` → `T`; `export const name = (params): R => ...` → `(params) => R`. */
const constSignature = (name: string, rest: string): string => {
  if (rest.startsWith(":")) {
    const eq = scanTo(rest, 1, isAssignment)
    return `export declare const ${name}: ${rest.slice(1, eq === -1 ? undefined : eq).trim()}`
  }
  const value = rest.replace(/^\s*=\s*/, "")
  if (/^(<|\()/.test(value)) {
    // An arrow function: generics, parameters, the return type if written, then `=>`.
    const paramsStart = value.startsWith("<") ? scanTo(value, 0, (c, at) => at > 0 && c[at] === "(") : 0
    const close = matchingParen(value, paramsStart)
    // A default value becomes an optional parameter, as in a declaration file.
    const head =
      value.slice(0, paramsStart) +
      value.slice(paramsStart, close + 1).replace(/(\b\w+): ([^=\n]+?) = ([^,\n]+?)(?=,|\n|\)$)/g, "$1?: $2")
    const afterParams = value.slice(close + 1)
    const arrow = scanTo(afterParams, 0, (c, at) => c[at] === "=" && c[at + 1] === ">")
    const returnType = afterParams.slice(0, arrow).trim().replace(/^:\s*/, "")
    return `export declare const ${name}: ${head} => ${returnType === "" ? "…" : returnType}`
  }
  const firstLine = value.split("\n")[0]!
  return `export const ${name} = ${firstLine}${value.includes("\n") ? " …" : ""}`
}

/** The index of the parenthesis that closes the one at `open`. */
const matchingParen = (text: string, open: number): number => {
  const code = blankNonCode(text)
  let depth = 0
  for (let i = open; i < code.length; i++) {
    if (code[i] === "(") depth++
    else if (code[i] === ")" && --depth === 0) return i
  }
  throw new Error(`unbalanced parentheses in: ${text.slice(0, 80)}`)
}

/** The declarations of one `export` statement (several for `export { a, b }`). */
const declarationsOf = (statement: Statement, locals: ReadonlyMap<string, Statement>): Array<Declaration> => {
  const { text } = statement
  const doc = statement.doc === undefined ? undefined : parseDoc(statement.doc)
  let m: RegExpExecArray | null
  if ((m = /^export const (\w+)/.exec(text))) {
    return [{ name: m[1]!, kind: "const", signature: constSignature(m[1]!, text.slice(m[0].length)), doc }]
  }
  if ((m = /^export (?:async )?function\*? (\w+)/.exec(text))) {
    const body = scanTo(text, m[0].length, (c, at) => c[at] === "{" && /\)\s*$|[\w>\]]\s*$/.test(c.slice(0, at)))
    return [{ name: m[1]!, kind: "function", signature: text.slice(0, body).trim(), doc }]
  }
  if ((m = /^export (?:abstract )?class (\w+)/.exec(text)))
    return [{ name: m[1]!, kind: "class", signature: text, doc }]
  if ((m = /^export interface (\w+)/.exec(text))) return [{ name: m[1]!, kind: "interface", signature: text, doc }]
  if ((m = /^export type (\w+)/.exec(text))) return [{ name: m[1]!, kind: "type", signature: text, doc }]
  if ((m = /^export declare namespace (\w+)/.exec(text))) {
    // Its members are documented one by one, as `Name.Member`.
    const inner = text.slice(text.indexOf("{") + 1, text.lastIndexOf("}"))
    const dedented = inner
      .split("\n")
      .map((line) => line.replace(/^ {2}/, ""))
      .join("\n")
    return exportStatements(dedented).flatMap((member) =>
      declarationsOf(member, new Map()).map((d) => ({ ...d, name: `${m![1]}.${d.name}` }))
    )
  }
  if (/^export \{/.test(text)) {
    // `export { local as name }`, each specifier with its own doc comment or its local's.
    const inner = text.slice(text.indexOf("{") + 1, text.lastIndexOf("}"))
    const specifiers = [...inner.matchAll(/(\/\*\*[\s\S]*?\*\/\s*)?(\w+)(?:\s+as\s+(\w+))?\s*(?:,|$)/g)]
    return specifiers.map((s) => {
      const local = s[2]!
      const name = s[3] ?? local
      const declaration = locals.get(local)
      if (declaration === undefined) throw new Error(`export { ${local} }: no top-level declaration of ${local}`)
      const [own] = declarationsOf(
        { text: declaration.text.replace(/^(?:export )?/, "export "), doc: declaration.doc },
        new Map()
      )
      const comment = s[1]?.trim() ?? declaration.doc
      return {
        ...own!,
        name,
        signature: own!.signature.replace(new RegExp(`\\b${local}\\b`), name),
        doc: comment === undefined ? undefined : parseDoc(comment)
      }
    })
  }
  throw new Error(`cannot read this export:\n${text.split("\n")[0]}`)
}

/** The file's top-level declarations that are not exported, by name, for `export { local as name }`. */
const localDeclarations = (source: string): Map<string, Statement> => {
  const lines = source.split("\n")
  const locals = new Map<string, Statement>()
  for (const [i, line] of lines.entries()) {
    const m = /^(?:const|let|function) (\w+)/.exec(line)
    if (m === null) continue
    let end = i + 1
    while (end < lines.length && /^(?:\s|[})\]])/.test(lines[end]!)) end++
    locals.set(m[1]!, { text: lines.slice(i, end).join("\n"), doc: docBefore(lines, i) })
  }
  return locals
}

// ---------------------------------------------------------------------------
// Modules
// ---------------------------------------------------------------------------

interface Module {
  /** The page's name, e.g. `Future` or `errors`. */
  readonly page: string
  readonly file: string
  /** How users import it. */
  readonly importLine: string
  /** The index's doc comment on its re-export, if it has one. */
  readonly reexportDoc: Doc | undefined
  readonly header: Doc | undefined
  readonly declarations: ReadonlyArray<Declaration>
}

const readModule = (
  file: string,
  page: string,
  importLine: (names: ReadonlyArray<string>) => string,
  reexportDoc: Doc | undefined
): Module => {
  const source = readFileSync(new URL(file, srcDir), "utf8")
  const locals = localDeclarations(source)
  const declarations = exportStatements(source)
    .flatMap((statement) => declarationsOf(statement, locals))
    .filter((d) => d.doc?.internal !== true)
  const names = [...new Set(declarations.map((d) => d.name.split(".")[0]!))]
  return { page, file, importLine: importLine(names), reexportDoc, header: moduleHeader(source), declarations }
}

/** The public modules with a package subpath of their own, `effect-futures/Name`, not re-exported by `src/index.ts`. */
const subpathModules = ["ClusterExecutor"] as const

/** The modules `src/index.ts` exports: `export * as Name from` and `export * from`. */
const readModules = (): Array<Module> => {
  const index = readFileSync(new URL("index.ts", srcDir), "utf8")
  const modules: Array<Module> = []
  for (const statement of exportStatements(index)) {
    const doc = statement.doc === undefined ? undefined : parseDoc(statement.doc)
    let m: RegExpExecArray | null
    if ((m = /^export \* as (\w+) from "\.\/(\w+)\.ts"/.exec(statement.text))) {
      const name = m[1]!
      modules.push(readModule(`${m[2]}.ts`, name, () => `import { ${name} } from "${packageName}"`, doc))
    } else if ((m = /^export \* from "\.\/(\w+)\.ts"/.exec(statement.text))) {
      const page = m[1] === "Errors" ? "errors" : m[1]!
      modules.push(
        readModule(`${m[1]}.ts`, page, (names) => `import { ${names.join(", ")} } from "${packageName}"`, doc)
      )
    } else {
      throw new Error(`src/index.ts: cannot read this export:\n${statement.text.split("\n")[0]}`)
    }
  }
  // Modules with a subpath of their own (kept off the root for what they need): their header is their doc.
  for (const name of subpathModules) {
    const file = `${name}.ts`
    const header = moduleHeader(readFileSync(new URL(file, srcDir), "utf8"))
    modules.push(readModule(file, name, () => `import * as ${name} from "${packageName}/${name}"`, header))
  }
  return modules.sort((a, b) => a.page.localeCompare(b.page))
}

// ---------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------

/** Every public name needs a doc comment on each declaration and an `@example` on at least one. */
const problems = (modules: ReadonlyArray<Module>): Array<string> => {
  const found: Array<string> = []
  for (const module of modules) {
    const where = (name: string) => `src/${module.file}: ${name}`
    if (module.reexportDoc === undefined) found.push(`src/index.ts: the re-export of ${module.file} has no doc comment`)
    if (module.page !== "errors" && (module.reexportDoc?.examples.length ?? 0) === 0) {
      found.push(`src/index.ts: the re-export of ${module.file} (${module.page}) has no @example`)
    }
    const byName = groupBy(module.declarations, (d) => d.name)
    for (const [name, declarations] of byName) {
      if (declarations.some((d) => d.doc === undefined || d.doc.description === "")) {
        found.push(`${where(name)} has no doc comment`)
      } else if (declarations.every((d) => d.doc!.examples.length === 0)) {
        found.push(`${where(name)} has no @example`)
      }
    }
  }
  return found
}

// ---------------------------------------------------------------------------
// Pages
// ---------------------------------------------------------------------------

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to `-`, repeats numbered `-1`, `-2`, ... */
const slugger = () => {
  const seen = new Map<string, number>()
  return (heading: string): string => {
    const base = heading
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-")
    const count = seen.get(base) ?? 0
    seen.set(base, count + 1)
    return count === 0 ? base : `${base}-${count}`
  }
}

/** The first sentence (or line) of a description, for tables. */
const summary = (doc: Doc | undefined): string => {
  const text = (doc?.description ?? "").split("\n\n")[0]!.replace(/\s+/g, " ").trim()
  const sentence = /^.*?\.(?=\s|$)/.exec(text)?.[0] ?? text
  return sentence.replace(/\|/g, "\\|")
}

/**
 * A page's sections: its entries by name (a value and a type may share one),
 * grouped by category in source order, and each entry's anchor.
 */
const layout = (module: Module) => {
  const entries = [...groupBy(module.declarations, (d) => d.name)]
  const categories = [...groupBy(entries, ([, ds]) => ds.find((d) => d.doc?.category)?.doc?.category ?? "other")]
  // Anchors in the order the headings appear on the page.
  const slug = slugger()
  slug(module.page)
  slug("Contents")
  const anchors = new Map<string, string>()
  for (const [category, list] of categories) {
    slug(category)
    for (const [name] of list) anchors.set(name, slug(name))
  }
  return { categories, anchors }
}

const generated = `<!-- Generated by \`npm run docs\` from the doc comments in src/. Do not edit by hand. -->`

const renderModule = (module: Module): string => {
  const out: Array<string> = [generated, "", `# ${module.page}`, "", "```ts", module.importLine, "```", ""]
  const intro = module.header?.description ?? module.reexportDoc?.description
  if (intro) out.push(intro, "")
  for (const example of module.reexportDoc?.examples ?? []) out.push("**Example**", "", example, "")
  out.push(`Source: [\`src/${module.file}\`](../../src/${module.file})`, "")

  const { categories, anchors } = layout(module)
  out.push("## Contents", "")
  for (const [category, list] of categories) {
    out.push(`- **${category}**: ${list.map(([name]) => `[${name}](#${anchors.get(name)})`).join(", ")}`)
  }
  out.push("")
  for (const [category, list] of categories) {
    out.push(`## ${category}`, "")
    for (const [name, declarations] of list) {
      out.push(`### ${name}`, "")
      const docs = [...new Set(declarations.map((d) => d.doc).filter((d) => d !== undefined))]
      const descriptions = [...new Set(docs.map((d) => d.description).filter((d) => d !== ""))]
      for (const description of descriptions) out.push(description, "")
      out.push(
        "```ts",
        ...declarations
          .map((d) => d.signature)
          .join("\n\n")
          .split("\n"),
        "```",
        ""
      )
      for (const example of docs.flatMap((d) => d.examples)) out.push("**Example**", "", example, "")
      const since = docs.find((d) => d.since)?.since
      if (since) out.push(`Added in v${since}`, "")
    }
  }
  return `${out.join("\n").trimEnd()}\n`
}

const renderIndex = (modules: ReadonlyArray<Module>): string => {
  const out: Array<string> = [
    generated,
    "",
    "# API reference",
    "",
    `Every export of \`${packageName}\`, one page per module, from the doc comments in \`src/\`. The`,
    "[user's guide](../README.md) explains the concepts; the [examples](../../examples/README.md) are",
    "whole programs.",
    "",
    "| module | |",
    "|---|---|",
    ...modules.map((m) => `| [${m.page}](${m.page}.md) | ${summary(m.reexportDoc ?? m.header)} |`),
    ""
  ]
  for (const module of modules) {
    out.push(`## [${module.page}](${module.page}.md)`, "", "| export | |", "|---|---|")
    const { anchors } = layout(module)
    for (const [name, declarations] of groupBy(module.declarations, (d) => d.name)) {
      out.push(
        `| [${name}](${module.page}.md#${anchors.get(name)}) | ${summary(declarations.find((d) => d.doc)?.doc)} |`
      )
    }
    out.push("")
  }
  return `${out.join("\n").trimEnd()}\n`
}

// ---------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------

const check = process.argv.includes("--check")
const modules = readModules()
const pages = new Map<string, string>([["README.md", renderIndex(modules)]])
for (const module of modules) pages.set(`${module.page}.md`, renderModule(module))

const existing = (() => {
  try {
    return readdirSync(outDir).filter((file) => file.endsWith(".md"))
  } catch {
    return []
  }
})()
const outPath = (file: string) => fileURLToPath(new URL(file, outDir))
const read = (file: string) => {
  try {
    return readFileSync(outPath(file), "utf8")
  } catch {
    return undefined
  }
}

const failures = problems(modules)
if (check) {
  for (const [file, text] of pages) {
    if (read(file) !== text) failures.push(`docs/api/${file} is out of date: run npm run docs`)
  }
  for (const file of existing) {
    if (!pages.has(file)) failures.push(`docs/api/${file} documents no module: run npm run docs`)
  }
} else {
  for (const file of existing) if (!pages.has(file)) rmSync(outPath(file))
  mkdirSync(outDir, { recursive: true })
  for (const [file, text] of pages) if (read(file) !== text) writeFileSync(outPath(file), text)
  console.log(`wrote ${pages.size} pages to docs/api/`)
}

if (failures.length > 0) {
  console.error(`${failures.length} problem${failures.length === 1 ? "" : "s"} with the API reference:`)
  for (const failure of failures) console.error(`  ${failure}`)
  process.exit(1)
}
if (check) console.log(`docs/api is up to date: ${pages.size} pages, every export documented with an example`)
