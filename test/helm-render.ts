/**
 * Renders the Helm chart (deploy/helm/labelvault) the way `helm template` would, for the subset
 * of Go templates and Sprig the chart uses. Why it exists: no Helm binary installs on this
 * machine (Debian's archive has no helm package, and no npm package renders Go templates with
 * Sprig's functions), yet the chart's templates should be rendered and their output parsed in
 * tests rather than grepped.
 *
 * Covered: text with `{{- … -}}` trimming and comments; `define` / `include`; `if` / `else if` /
 * `else`, `with`, `range` (lists and maps, with `$i, $v :=`), variables (`$x :=`, `$`); pipelines
 * with `|` and parentheses; the functions listed in FUNCS. Anything else throws, and so does
 * printing a map or reading a field of nil (Helm errors there too), so a template that uses more
 * than this fails its test instead of rendering wrongly. Not covered: Helm's own checks of the
 * rendered objects against the Kubernetes API (no cluster or schema here).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';

type Value = unknown;
type Node =
  | { t: 'text'; s: string }
  | { t: 'out'; pipe: Pipe; decl: string[] }
  | { t: 'if'; branches: { cond: Pipe; body: Node[] }[]; other: Node[] }
  | { t: 'with'; pipe: Pipe; body: Node[]; other: Node[] }
  | { t: 'range'; pipe: Pipe; vars: string[]; body: Node[]; other: Node[] };
type Operand = { k: 'lit'; v: Value } | { k: 'field'; base: string; path: string[] } | { k: 'fn'; name: string } | { k: 'paren'; pipe: Pipe };
type Pipe = Operand[][];

/** Thrown by `fail` and `required` (Helm's render errors), and for constructs this renderer lacks. */
export class TemplateError extends Error {}

/** Splits a template into text and action tokens, applying the `{{-` / `-}}` trim markers. */
function lex(src: string): { text?: string; action?: string }[] {
  const out: { text?: string; action?: string }[] = [];
  let i = 0;
  let trimNext = false;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    let text = src.slice(i, open === -1 ? src.length : open);
    if (trimNext) text = text.replace(/^\s+/, '');
    if (open === -1) {
      out.push({ text });
      break;
    }
    const close = src.indexOf('}}', open);
    let body = src.slice(open + 2, close);
    if (/^-\s/.test(body)) text = text.replace(/\s+$/, '');
    trimNext = /\s-$/.test(body);
    body = body.replace(/^-\s/, '').replace(/\s-$/, '').trim();
    out.push({ text });
    if (!body.startsWith('/*')) out.push({ action: body });
    i = close + 2;
  }
  return out.filter((t) => t.action !== undefined || t.text !== '');
}

/** Tokens of one action: strings, numbers, `(`, `)`, `|`, `:=`, `,` and words. */
function words(action: string): string[] {
  const re = /\s*("(?:[^"\\]|\\.)*"|\(|\)|\||:=|,|[^\s()|,]+)/gy;
  const out: string[] = [];
  let m: RegExpExecArray | null;
  while ((m = re.exec(action)) !== null && m[1] !== undefined) out.push(m[1]);
  return out;
}

function parsePipe(toks: string[]): Pipe {
  const cmds: Operand[][] = [[]];
  while (toks.length > 0 && toks[0] !== ')') {
    const w = toks.shift()!;
    if (w === '|') cmds.push([]);
    else if (w === '(') {
      cmds.at(-1)!.push({ k: 'paren', pipe: parsePipe(toks) });
      if (toks.shift() !== ')') throw new TemplateError('unclosed (');
    } else cmds.at(-1)!.push(operand(w));
  }
  return cmds;
}

function operand(w: string): Operand {
  if (w.startsWith('"')) return { k: 'lit', v: JSON.parse(w) };
  if (/^-?\d+(\.\d+)?$/.test(w)) return { k: 'lit', v: Number(w) };
  if (w === 'true' || w === 'false') return { k: 'lit', v: w === 'true' };
  if (w === 'nil') return { k: 'lit', v: null };
  if (w.startsWith('.')) return { k: 'field', base: '.', path: w.split('.').filter(Boolean) };
  if (w.startsWith('$')) {
    const [base, ...rest] = w.split('.');
    return { k: 'field', base: base!, path: rest };
  }
  if (!(w in FUNCS)) throw new TemplateError(`function ${w} is not supported by this renderer`);
  return { k: 'fn', name: w };
}

/** Parses an action's declaration (`$a, $b :=`) off its tokens. */
function declOf(toks: string[]): string[] {
  const at = toks.indexOf(':=');
  if (at === -1) return [];
  return toks.splice(0, at + 1).filter((t) => t.startsWith('$'));
}

/** The body of a block: nodes up to its `else` or `end`, which must come. */
function block(toks: { text?: string; action?: string }[], defines: Map<string, Node[]>): { nodes: Node[]; stop: string } {
  const r = parseNodes(toks, defines);
  if (r.stop === undefined) throw new TemplateError('unexpected EOF: a block lacks its {{ end }}');
  return { nodes: r.nodes, stop: r.stop };
}

/** Parses tokens into nodes until `end`/`else` (returned as the stopper) or the end of input. */
function parseNodes(toks: { text?: string; action?: string }[], defines: Map<string, Node[]>): { nodes: Node[]; stop?: string } {
  const nodes: Node[] = [];
  while (toks.length > 0) {
    const tok = toks.shift()!;
    if (tok.text !== undefined) {
      nodes.push({ t: 'text', s: tok.text });
      continue;
    }
    const ws = words(tok.action!);
    const head = ws[0];
    if (head === 'end' || head === 'else') return { nodes, stop: tok.action! };
    if (head === 'define') {
      defines.set(JSON.parse(ws[1]!), block(toks, defines).nodes);
    } else if (head === 'if') {
      const branches: { cond: Pipe; body: Node[] }[] = [];
      let cond = parsePipe(ws.slice(1));
      let other: Node[] = [];
      for (;;) {
        const r = block(toks, defines);
        branches.push({ cond, body: r.nodes });
        const stop = words(r.stop);
        if (stop[0] === 'else' && stop[1] === 'if') {
          cond = parsePipe(stop.slice(2));
          continue;
        }
        if (stop[0] === 'else') other = block(toks, defines).nodes;
        break;
      }
      nodes.push({ t: 'if', branches, other });
    } else if (head === 'with' || head === 'range') {
      const rest = ws.slice(1);
      const vars = declOf(rest);
      const r = block(toks, defines);
      const other = words(r.stop)[0] === 'else' ? block(toks, defines).nodes : [];
      nodes.push(head === 'with' ? { t: 'with', pipe: parsePipe(rest), body: r.nodes, other } : { t: 'range', pipe: parsePipe(rest), vars, body: r.nodes, other });
    } else {
      const rest = [...ws];
      const decl = declOf(rest);
      nodes.push({ t: 'out', pipe: parsePipe(rest), decl });
    }
  }
  return { nodes };
}

/** Go templates' truth: false, 0, nil, "" and empty lists and maps are false. */
function truthy(v: Value): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

const isMap = (v: Value): v is Record<string, Value> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: Value): string => (v === null || v === undefined ? '' : typeof v === 'object' ? stringify(v) : String(v));

/** Sprig's `toYaml`: block YAML with sorted keys, no trailing newline. */
function toYaml(v: Value): string {
  return stringify(v, { sortMapEntries: true, lineWidth: 0 }).replace(/\n$/, '');
}

const KINDS = (v: Value) => (v === null || v === undefined ? 'invalid' : Array.isArray(v) ? 'slice' : isMap(v) ? 'map' : typeof v === 'number' ? (Number.isInteger(v) ? 'int' : 'float64') : typeof v);

type Fn = (ctx: Ctx, ...args: Value[]) => Value;
const FUNCS: Record<string, Fn> = {
  include: (ctx, name, data) => ctx.render(ctx.defines.get(String(name)) ?? fail(`no template ${String(name)}`), data),
  nindent: (_c, n, s) => `\n${str(s).split('\n').map((l) => ' '.repeat(Number(n)) + l).join('\n')}`,
  indent: (_c, n, s) => str(s).split('\n').map((l) => ' '.repeat(Number(n)) + l).join('\n'),
  toYaml: (_c, v) => toYaml(v),
  quote: (_c, ...vs) => vs.filter((v) => v !== null && v !== undefined).map((v) => JSON.stringify(str(v))).join(' '),
  required: (_c, msg, v) => (v === null || v === undefined || v === '' ? fail(String(msg)) : v),
  fail: (_c, msg) => fail(String(msg)),
  eq: (_c, a, ...bs) => bs.some((b) => b === a),
  ne: (_c, a, b) => a !== b,
  gt: (_c, a, b) => (typeof a === 'number' && typeof b === 'number' ? a > b : fail('gt compares two numbers')),
  not: (_c, v) => !truthy(v),
  and: (_c, ...vs) => vs.find((v) => !truthy(v)) ?? vs.at(-1),
  or: (_c, ...vs) => vs.find((v) => truthy(v)) ?? vs.at(-1),
  default: (_c, d, v) => (truthy(v) ? v : d),
  kindIs: (_c, kind, v) => KINDS(v) === kind,
  omit: (_c, m, ...ks) => (isMap(m) ? Object.fromEntries(Object.entries(m).filter(([k]) => !ks.includes(k))) : fail('omit takes a map')),
  dict: (_c, ...kv) => Object.fromEntries(Array.from({ length: kv.length / 2 }, (_, i) => [String(kv[2 * i]), kv[2 * i + 1]])),
  int: (_c, v) => Math.trunc(Number(v)),
  add: (_c, ...vs) => vs.reduce<number>((a, b) => a + Number(b), 0),
  mul: (_c, ...vs) => vs.reduce<number>((a, b) => a * Number(b), 1),
};

function fail(msg: string): never {
  throw new TemplateError(msg);
}

interface Ctx {
  defines: Map<string, Node[]>;
  render: (nodes: Node[], data: Value) => string;
}

/** Evaluates nodes with `dot` and the variable scope `vars` (`$` is the template's data). */
function run(ctx: Ctx, nodes: Node[], dot: Value, vars: Map<string, Value>): string {
  const field = (o: Extract<Operand, { k: 'field' }>, dotNow: Value): Value => {
    let v: Value = o.base === '.' ? dotNow : vars.has(o.base) ? vars.get(o.base) : fail(`undefined variable ${o.base}`);
    for (const key of o.path) {
      if (!isMap(v)) fail(`nil pointer evaluating ${o.base}.${o.path.join('.')}`);
      v = v[key];
    }
    return v;
  };
  const evalPipe = (pipe: Pipe): Value => {
    let piped: Value[] = [];
    for (const cmd of pipe) {
      const args = cmd.slice(1).map((a) => (a.k === 'fn' ? fail(`${a.name} used as a value`) : value(a)));
      const first = cmd[0] ?? fail('empty command');
      if (first.k === 'fn') piped = [FUNCS[first.name]!(ctx, ...args, ...piped)];
      else if (cmd.length === 1 && piped.length === 0) piped = [value(first)];
      else fail('a value cannot take arguments');
    }
    return piped[0];
  };
  const value = (o: Operand): Value => (o.k === 'lit' ? o.v : o.k === 'field' ? field(o, dot) : o.k === 'paren' ? evalPipe(o.pipe) : fail('function as value'));
  let out = '';
  for (const n of nodes) {
    if (n.t === 'text') out += n.s;
    else if (n.t === 'out') {
      const v = evalPipe(n.pipe);
      if (n.decl.length > 0) vars.set(n.decl[0]!, v);
      else if (isMap(v) || Array.isArray(v)) fail('printing a map or list (Go would print map[…])');
      else out += str(v);
    } else if (n.t === 'if') {
      const hit = n.branches.find((b) => truthy(evalPipe(b.cond)));
      out += run(ctx, hit ? hit.body : n.other, dot, new Map(vars));
    } else if (n.t === 'with') {
      const v = evalPipe(n.pipe);
      out += truthy(v) ? run(ctx, n.body, v, new Map(vars)) : run(ctx, n.other, dot, new Map(vars));
    } else {
      const v = evalPipe(n.pipe);
      const entries: [Value, Value][] = Array.isArray(v) ? v.map((x, i) => [i, x]) : isMap(v) ? Object.keys(v).sort().map((k) => [k, v[k]]) : truthy(v) ? fail('range over a scalar') : [];
      if (entries.length === 0) out += run(ctx, n.other, dot, new Map(vars));
      for (const [k, x] of entries) {
        const scope = new Map(vars);
        if (n.vars.length === 1) scope.set(n.vars[0]!, x);
        if (n.vars.length === 2) scope.set(n.vars[0]!, k).set(n.vars[1]!, x);
        out += run(ctx, n.body, x, scope);
      }
    }
  }
  return out;
}

/** Deep-merges `over` into `base` (maps merge, anything else replaces), as `helm --set/-f` do. */
function merge(base: Value, over: Value): Value {
  if (!isMap(base) || !isMap(over)) return over === undefined ? base : over;
  const out: Record<string, Value> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = merge(base[k], v);
  return out;
}

/**
 * Renders every template of the chart with its values.yaml merged with `overrides`: file name →
 * the rendered text (partials, `_*.tpl`, are not output). Throws TemplateError for a `fail` or
 * `required` the values trip.
 */
export function renderChart(chartDir: string, overrides: Record<string, unknown> = {}, release = { Name: 'lv', Namespace: 'labelvault', Revision: 1 }): Record<string, string> {
  const dir = path.join(chartDir, 'templates');
  const files = fs.readdirSync(dir).sort();
  const defines = new Map<string, Node[]>();
  const parsed = new Map(
    files.map((f) => {
      const r = parseNodes(lex(fs.readFileSync(path.join(dir, f), 'utf8')), defines);
      if (r.stop !== undefined) throw new TemplateError(`${f}: unexpected {{ ${r.stop} }}`);
      return [f, r.nodes] as const;
    }),
  );
  const values = merge(parse(fs.readFileSync(path.join(chartDir, 'values.yaml'), 'utf8')), overrides);
  const root = { Values: values, Release: release, Chart: parse(fs.readFileSync(path.join(chartDir, 'Chart.yaml'), 'utf8')) };
  const ctx: Ctx = { defines, render: (nodes, data) => run(ctx, nodes, data, new Map([['$', data]])) };
  const out: Record<string, string> = {};
  for (const [f, nodes] of parsed) if (!f.startsWith('_')) out[f] = ctx.render(nodes, root);
  return out;
}
