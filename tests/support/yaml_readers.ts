/**
 * The YAML readers later pipeline jobs use, for portability tests: `yaml` as YAML 1.2 and
 * as YAML 1.1, and PyYAML `safe_load` (and its libyaml `CSafeLoader`) when a Python with
 * PyYAML is installed. Each gives
 * plain data in which a mapping key that is not a string shows as `!key:<type>:<text>`, so
 * a re-typed key cannot pass for the original string. Also the corpus of hostile strings.
 *
 * @module
 */

import { parseDocument } from "yaml";

/** A reader: name and a function from YAML text to plain data. */
export interface YamlReader {
  /** Shown in assertion messages. */
  name: string;
  /** Parse one document (throws on a YAML error). */
  read(text: string): Promise<unknown>;
  /** Parse each of several documents, in one go (throws on the first YAML error). */
  readAll(texts: readonly string[]): Promise<unknown[]>;
}

function plain(value: unknown): unknown {
  if (value instanceof Map) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of value) {
      const name = typeof key === "string" ? key : `!key:${typeof key}:${String(key)}`;
      out[name] = plain(item);
    }
    return out;
  }
  if (Array.isArray(value)) return value.map(plain);
  if (value instanceof Date) return `!timestamp:${value.toISOString()}`;
  return value;
}

function yamlReader(version: "1.1" | "1.2"): YamlReader {
  const parse = (text: string): unknown => {
    const doc = parseDocument(text, { version, uniqueKeys: true });
    if (doc.errors.length > 0) throw doc.errors[0];
    return plain(doc.toJS({ mapAsMap: true }));
  };
  return {
    name: `yaml ${version}`,
    read: (text) => Promise.resolve(parse(text)),
    readAll: (texts) => Promise.resolve(texts.map(parse)),
  };
}

const PY_READ = `
import json, sys, yaml
def plain(o):
    if isinstance(o, dict):
        return {(k if isinstance(k, str) else "!key:%s:%r" % (type(k).__name__, k)): plain(v) for k, v in o.items()}
    if isinstance(o, list):
        return [plain(v) for v in o]
    if isinstance(o, (str, bool, int, float)) or o is None:
        return o
    return "!%s:%r" % (type(o).__name__, o)
texts = json.load(open(sys.argv[1], encoding='utf-8'))
loader = yaml.CSafeLoader if sys.argv[2] == 'libyaml' else yaml.SafeLoader
sys.stdout.write(json.dumps([plain(yaml.load(t.encode('utf-8'), Loader=loader)) for t in texts]))
`;

async function works(python: string): Promise<boolean> {
  try {
    const out = await new Deno.Command(python, {
      args: ["-c", "import yaml"],
      stdout: "null",
      stderr: "null",
    }).output();
    return out.code === 0;
  } catch {
    return false;
  }
}

/**
 * Every Python with PyYAML: `python3` on PATH (often a pyenv one) and `/usr/bin/python3`
 * (Debian's `python3-yaml`), each once.
 */
export async function findPyYamls(): Promise<string[]> {
  const found: string[] = [];
  const seen = new Set<string>();
  for (const python of ["python3", "/usr/bin/python3"]) {
    if (!(await works(python))) continue;
    const out = await new Deno.Command(python, {
      args: ["-c", "import sys, yaml; print(sys.executable, yaml.__file__)"],
      stdout: "piped",
    }).output();
    const identity = new TextDecoder().decode(out.stdout).trim();
    if (seen.has(identity)) continue;
    seen.add(identity);
    found.push(python);
  }
  return found;
}

/** Whether this PyYAML has the libyaml C parser (`yaml.CSafeLoader`), which many jobs use. */
async function hasLibyaml(python: string): Promise<boolean> {
  const out = await new Deno.Command(python, {
    args: ["-c", "import yaml; yaml.CSafeLoader"],
    stdout: "null",
    stderr: "null",
  }).output();
  return out.code === 0;
}

function pyYamlReader(python: string, loader: "SafeLoader" | "libyaml"): YamlReader {
  const readAll = async (texts: readonly string[]): Promise<unknown[]> => {
    const file = await Deno.makeTempFile({ prefix: "secrets-orchestrator-pyyaml-" });
    try {
      await Deno.writeTextFile(file, JSON.stringify(texts));
      const out = await new Deno.Command(python, {
        args: ["-c", PY_READ, file, loader],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(out.stderr).trim().split("\n").at(-1);
      if (out.code !== 0) throw new Error(`PyYAML refused the text: ${stderr}`);
      return JSON.parse(new TextDecoder().decode(out.stdout));
    } finally {
      await Deno.remove(file);
    }
  };
  return {
    name: loader === "libyaml"
      ? `PyYAML CSafeLoader, libyaml (${python})`
      : `PyYAML safe_load (${python})`,
    read: async (text) => (await readAll([text]))[0],
    readAll,
  };
}

/**
 * Every reader available here: always `yaml` 1.2 and 1.1; PyYAML of each Python that has
 * it (else a line says why it is skipped).
 */
export async function yamlReaders(): Promise<YamlReader[]> {
  const readers = [yamlReader("1.2"), yamlReader("1.1")];
  const pythons = await findPyYamls();
  if (pythons.length === 0) {
    console.log(
      "PyYAML is not installed (python3 and /usr/bin/python3 -c 'import yaml' failed): its checks skipped",
    );
  }
  for (const python of pythons) {
    readers.push(pyYamlReader(python, "SafeLoader"));
    if (await hasLibyaml(python)) readers.push(pyYamlReader(python, "libyaml"));
  }
  return readers;
}

const caseForms = (word: string): string[] => [
  word,
  word.toUpperCase(),
  word[0].toUpperCase() + word.slice(1),
];

/**
 * Strings YAML might read as something else: every YAML 1.1 and 1.2 boolean, null, int,
 * float, timestamp, merge and value form in several letter cases, syntax characters at
 * the start, middle and end, whitespace at the edges, every control character, NUL, the
 * unicode line breaks and byte order mark, multi-line text, and very long strings. All are
 * well-formed Unicode (a lone surrogate is tested on its own).
 */
export function hostileStrings(): string[] {
  const words = [
    "y",
    "n",
    "yes",
    "no",
    "true",
    "false",
    "on",
    "off",
    "null",
    "nan",
    "inf",
  ];
  const forms = [
    ...words.flatMap(caseForms),
    "~",
    "",
    "=",
    "<<",
    "<<: *a",
    "0",
    "-0",
    "+1",
    "012",
    "0012",
    "08",
    "0b101",
    "0B101",
    "0o17",
    "0x1F",
    "0x_1F",
    "1_000",
    "-1_000",
    "1,000",
    "1.5",
    "1.",
    ".5",
    "1e3",
    "1E3",
    "1.0e+3",
    "-1.5e-3",
    "1_000.5",
    ".inf",
    "-.inf",
    "+.INF",
    ".nan",
    ".NaN",
    "12:30:45",
    "190:20:30",
    "1:30",
    "-1:30",
    "1:30.5",
    "2001-12-14",
    "2001-12-14t21:59:43.10-05:00",
    "2001-12-14 21:59:43.10 -5",
    "2001-12-15T02:59:43.1Z",
    "2002-1-1",
    "12345678901234567890",
    "Infinity",
    "NaN",
  ];
  const syntax = [
    "#",
    "# comment",
    "a #b",
    "a#b",
    ": ",
    "a: b",
    "a:",
    "a:b",
    "http://host:8080/path?q=1&r=2#frag",
    "- ",
    "- item",
    "-",
    "--",
    "---",
    "...",
    "--- x",
    "*",
    "*alias",
    "&",
    "&anchor v",
    "!",
    "!!str",
    "!!binary aGVsbG8=",
    "!!python/object/apply:os.system",
    "%",
    "%YAML 1.1",
    "@",
    "@at",
    "`",
    "`cmd`",
    "'",
    "''",
    "'quoted'",
    '"',
    '"quoted"',
    "it's",
    'say "hi"',
    "?",
    "? key",
    "|",
    "|-",
    ">",
    "> folded",
    "{",
    "{}",
    "{a: 1}",
    "[",
    "[]",
    "[1, 2]",
    "a, b",
    "a,b",
    "a]b",
    "a}b",
    "\\",
    "back\\slash",
    "\\n",
    "a\\u0041",
    "$HOME",
    "(x)",
    "a=b",
    "abc==",
    "a\tb",
    "tab\t",
    "\ttab",
  ];
  const spaced = ["value", "on", "1", "#x", "a: b"].flatMap((s) => [` ${s}`, `${s} `, `  ${s}  `]);
  const controls = Array.from({ length: 32 }, (_, i) => `c${String.fromCharCode(i)}c`);
  const unicode = [
    "\x7f",
    "a\x80b",
    "a\x85b",
    "\x85",
    "a\x9fb",
    "a\u00a0b",
    "\u00a0",
    "a\u2028b",
    "\u2028",
    "a\u2029b",
    "\ufeff",
    "\ufeffbom",
    "bom\ufeff",
    "a\ufffeb",
    "a\uffffb",
    "ünïcödé 名前",
    "🔑 key",
    "e\u0301",
    "\u200b",
    "\u0000",
    "nul\u0000in the middle",
    "\r",
    "cr\rlf",
  ];
  const multiline = [
    "a\nb",
    "a\n",
    "a\n\n",
    "a\n\n\n",
    "\n",
    "\n\n",
    "\na",
    " a\nb",
    "a \nb",
    "a\n b",
    "a\n\tb",
    "#a\n#b",
    "---\n...",
    "a\r\nb",
    "-----BEGIN KEY-----\nMIIB\n-----END KEY-----\n",
    "line\u2028two\nthree",
    "a\n\u0085b",
    "  lead\n  lead\n",
    "a\n  \nb",
    "a\n \n",
    "  \nx",
    "x\n  ",
    "x\n\n  \n",
    "\u00a0\nx",
    "x\n#",
    "x\n- y\n? z\n: w",
    "%YAML 1.1\n---\nx",
    "x\n...\ny",
  ];
  const long = ["x".repeat(100_000), `${"ab ".repeat(2000)}end`, "on\n".repeat(500)];
  return [
    ...new Set([
      ...forms,
      ...syntax,
      ...spaced,
      ...controls,
      ...unicode,
      ...multiline,
      ...long,
    ]),
  ];
}
