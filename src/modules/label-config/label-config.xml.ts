/**
 * Reads labeling-config XML into a small element tree, refusing anything risky before or while
 * parsing: oversize input, DTDs and entity declarations (XXE, billion laughs), processing
 * instructions, undefined entities, deep nesting, too many elements and unknown tags.
 * saxes never expands anything but XML's five predefined entities and character references.
 */
import { SaxesParser, type SaxesTagPlain } from 'saxes';
import { invalid } from '../../http/errors.js';
import { tagSpec } from './label-config.tags.js';

/** The largest config accepted, in UTF-8 bytes (512 KiB). */
export const LABEL_CONFIG_MAX_BYTES = 512 * 1024;
/** The deepest element nesting accepted (the root is depth 1). */
export const LABEL_CONFIG_MAX_DEPTH = 64;
/** The most elements a config may contain. */
export const LABEL_CONFIG_MAX_ELEMENTS = 10_000;

export interface XmlElement {
  tag: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** Text and CDATA directly inside the element, concatenated. */
  text: string;
  /** 1-based line of the start tag. */
  line: number;
}

/** A 400 naming the `label_config` field. */
export const configError = (message: string) => invalid({ label_config: [message] });

/** Refuses what can be refused without parsing: empty, oversize, DTDs and entity declarations. */
function precheck(xml: string): void {
  if (xml.trim() === '') throw configError('Labeling config is empty.');
  // A UTF-8 encoding is never shorter than the UTF-16 length, so a long string is refused
  // without encoding it.
  if (xml.length > LABEL_CONFIG_MAX_BYTES || Buffer.byteLength(xml, 'utf8') > LABEL_CONFIG_MAX_BYTES) {
    throw configError(`Labeling config is larger than ${LABEL_CONFIG_MAX_BYTES / 1024} KiB.`);
  }
  if (/<!DOCTYPE/i.test(xml)) throw configError('DOCTYPE declarations are not allowed in a labeling config.');
  if (/<!ENTITY/i.test(xml)) throw configError('Entity declarations are not allowed in a labeling config.');
}

/** Turns a saxes error ("line:column: message") into a 400 with the position kept. */
function syntaxError(err: Error): Error {
  const match = /^(\d+):(\d+): (.*)$/s.exec(err.message);
  const where = match ? ` at line ${match[1]}, column ${match[2]}` : '';
  const what = match?.[3] ?? err.message;
  if (/undefined entity|disallowed character in entity name/.test(what)) {
    return configError(
      `Entity reference not allowed${where}; only &amp; &lt; &gt; &quot; &apos; and numeric character references are.`,
    );
  }
  return configError(`Labeling config is not well-formed XML${where}: ${what}`);
}

type ParserOptions = { xmlns: false; position: true };

class TreeBuilder {
  readonly stack: XmlElement[] = [];
  root: XmlElement | undefined;
  count = 0;

  constructor(private readonly parser: SaxesParser<ParserOptions>) {}

  /** Checks limits and the allowlist as soon as a tag's name is known. */
  start(name: string): void {
    if (this.stack.length === 0 && name !== 'View') {
      throw configError(`The root element must be <View>, not <${name}>.`);
    }
    this.count += 1;
    if (this.count > LABEL_CONFIG_MAX_ELEMENTS) {
      throw configError(`Labeling config has more than ${LABEL_CONFIG_MAX_ELEMENTS} elements.`);
    }
    if (this.stack.length + 1 > LABEL_CONFIG_MAX_DEPTH) {
      throw configError(`Labeling config is nested deeper than ${LABEL_CONFIG_MAX_DEPTH} levels.`);
    }
    if (!tagSpec(name)) throw configError(`Unknown tag <${name}> at line ${this.parser.line}.`);
  }

  open(tag: SaxesTagPlain): void {
    const element: XmlElement = { tag: tag.name, attrs: { ...tag.attributes }, children: [], text: '', line: this.parser.line };
    const parent = this.stack.at(-1);
    if (parent) parent.children.push(element);
    else this.root = element;
    this.stack.push(element);
  }

  close(): void {
    this.stack.pop();
  }

  text(text: string): void {
    const current = this.stack.at(-1);
    if (current) current.text += text;
  }
}

/** Parses a config into an element tree; throws a 400 naming `label_config` on any refusal. */
export function readConfigXml(xml: string): XmlElement {
  precheck(xml);
  const parser = new SaxesParser<ParserOptions>({ xmlns: false, position: true });
  const tree = new TreeBuilder(parser);
  parser.on('error', (err) => {
    throw syntaxError(err);
  });
  // precheck already refuses any "<!DOCTYPE"; this handler is the backstop should that change.
  parser.on('doctype', () => {
    throw configError('DOCTYPE declarations are not allowed in a labeling config.');
  });
  parser.on('processinginstruction', (pi) => {
    throw configError(`Processing instructions are not allowed in a labeling config (found <?${pi.target}).`);
  });
  parser.on('opentagstart', (tag) => tree.start(tag.name));
  parser.on('opentag', (tag) => tree.open(tag));
  parser.on('closetag', () => tree.close());
  parser.on('text', (text) => tree.text(text));
  parser.on('cdata', (text) => tree.text(text));
  parser.write(xml).close();
  if (!tree.root) throw configError('Labeling config has no root element.');
  return tree.root;
}
