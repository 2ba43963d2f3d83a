import { describe, expect, it } from 'vitest';
import { AppError } from '../../http/errors.js';
import { LABEL_CONFIG_MAX_BYTES, parseLabelConfig, type ParsedControl } from './label-config.parser.js';
import { STARTER_CONFIGS } from './starter-configs.js';

/** The `label_config` message of the 400 a config is refused with. */
function refusal(xml: string): string {
  try {
    parseLabelConfig(xml);
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    const error = err as AppError;
    expect(error.status).toBe(400);
    expect(error.validationErrors?.label_config).toHaveLength(1);
    return error.validationErrors!.label_config![0]!;
  }
  throw new Error('expected the config to be refused');
}

const control = (type: string, toName: string[], inputs: [string, string][], labels: string[]): ParsedControl => ({
  type,
  to_name: toName,
  inputs: inputs.map(([t, value]) => ({ type: t, value })),
  labels,
  labels_attrs: Object.fromEntries(labels.map((value) => [value, expect.objectContaining({ value })])),
});

const EXPECTED: Record<keyof typeof STARTER_CONFIGS, { dataKeys: string[]; parsed: Record<string, ParsedControl> }> = {
  imageClassification: {
    dataKeys: ['image'],
    parsed: { choice: control('Choices', ['image'], [['Image', 'image']], ['Cat', 'Dog']) },
  },
  boundingBoxes: {
    dataKeys: ['image'],
    parsed: { label: control('RectangleLabels', ['image'], [['Image', 'image']], ['Car', 'Plane']) },
  },
  polygons: {
    dataKeys: ['image'],
    parsed: { outline: control('PolygonLabels', ['image'], [['Image', 'image']], ['Building', 'Road']) },
  },
  keypoints: {
    dataKeys: ['photo'],
    parsed: { points: control('KeyPointLabels', ['photo'], [['Image', 'photo']], ['Left eye', 'Right eye']) },
  },
  textClassification: {
    dataKeys: ['text'],
    parsed: { sentiment: control('Choices', ['review'], [['Text', 'text']], ['Positive', 'Negative', 'Neutral']) },
  },
  ner: {
    dataKeys: ['text'],
    parsed: { entities: control('Labels', ['doc'], [['Text', 'text']], ['Person', 'Organization', 'Location']) },
  },
  relationExtraction: {
    dataKeys: ['text'],
    parsed: { entities: control('Labels', ['doc'], [['Text', 'text']], ['Person', 'Place']) },
  },
  audioTranscription: {
    dataKeys: ['audio'],
    parsed: { transcript: control('TextArea', ['audio'], [['Audio', 'audio']], []) },
  },
  audioSegmentation: {
    dataKeys: ['audio'],
    parsed: { speaker: control('Labels', ['audio'], [['Audio', 'audio']], ['Speaker 1', 'Speaker 2']) },
  },
  videoClassification: {
    dataKeys: ['video'],
    parsed: { activity: control('Choices', ['video'], [['Video', 'video']], ['Walking', 'Running']) },
  },
  timeSeries: {
    dataKeys: ['csv'],
    parsed: { event: control('TimeSeriesLabels', ['sensors'], [['TimeSeries', 'csv']], ['Spike', 'Drop']) },
  },
  pairwise: {
    dataKeys: ['answer_a', 'answer_b'],
    parsed: {
      preference: control('Pairwise', ['left', 'right'], [['Text', 'answer_a'], ['Text', 'answer_b']], []),
    },
  },
};

describe('parseLabelConfig: the twelve starter configs', () => {
  it.each(Object.keys(STARTER_CONFIGS) as (keyof typeof STARTER_CONFIGS)[])('parses %s', (key) => {
    const config = parseLabelConfig(STARTER_CONFIGS[key]);
    expect(config.parsed).toEqual(EXPECTED[key].parsed);
    expect(config.dataKeys).toEqual(EXPECTED[key].dataKeys);
  });

  it('keeps every attribute of each label in labels_attrs', () => {
    const { parsed } = parseLabelConfig(STARTER_CONFIGS.boundingBoxes);
    expect(parsed.label!.labels_attrs).toEqual({
      Car: { value: 'Car', background: '#ff0000' },
      Plane: { value: 'Plane', background: '#0000ff', hotkey: 'p' },
    });
  });

  it('lists objects and controls with their data keys and choice mode', () => {
    const config = parseLabelConfig(STARTER_CONFIGS.videoClassification);
    expect(config.objects).toEqual([{ name: 'video', type: 'Video', value: '$video', dataKey: 'video' }]);
    expect(config.controls).toEqual([
      expect.objectContaining({ name: 'activity', type: 'Choices', toName: ['video'], labels: ['Walking', 'Running'], choice: 'multiple' }),
    ]);
    expect(parseLabelConfig(STARTER_CONFIGS.imageClassification).controls[0]).toMatchObject({ choice: 'single', dynamicLabels: null });
    expect(parseLabelConfig(STARTER_CONFIGS.textClassification).controls[0]).toMatchObject({ required: true });
  });

  it('collects the relation labels', () => {
    expect(parseLabelConfig(STARTER_CONFIGS.relationExtraction).relationLabels).toEqual(['works for', 'lives in']);
  });
});

describe('parseLabelConfig: other accepted configs', () => {
  it('accepts an XML declaration, comments, CDATA and an empty View (Label Studio’s default config)', () => {
    expect(parseLabelConfig('<?xml version="1.0" encoding="UTF-8"?>\n<!-- empty --><View/>').controls).toEqual([]);
    const styled = parseLabelConfig('<View><Style><![CDATA[.card { padding: 1em; }]]></Style><Text name="t" value="$t"/></View>');
    expect(styled.dataKeys).toEqual(['t']);
  });

  it('flattens nested Taxonomy choices', () => {
    const config = parseLabelConfig(`<View><Text name="t" value="$text"/>
      <Taxonomy name="topic" toName="t"><Choice value="Sport"><Choice value="Football"/><Choice value="Tennis"/></Choice><Choice value="Politics"/></Taxonomy>
    </View>`);
    expect(config.parsed.topic!.labels).toEqual(['Sport', 'Football', 'Tennis', 'Politics']);
    expect(config.controls[0]!.choice).toBe('multiple');
  });

  it('accepts labels loaded from task data, and asks tasks for that key', () => {
    const config = parseLabelConfig('<View><Audio name="a" value="$audio"/><Choices name="c" toName="a" value="$options"/></View>');
    expect(config.controls[0]).toMatchObject({ labels: [], dynamicLabels: 'options' });
    expect(config.dataKeys).toEqual(['audio', 'options']);
  });

  it('accepts literal Text (instructions) and a TimeSeries URL, with no data key', () => {
    const config = parseLabelConfig(`<View><Text name="hint" value="Read carefully"/><Header value="$title"/>
      <TimeSeries name="ts" value="https://example.org/data.csv" valueType="url"><Channel column="v"/></TimeSeries>
      <Number name="n" toName="ts"/></View>`);
    expect(config.objects.map((o) => o.dataKey)).toEqual([null, null]);
    expect(config.parsed.n!.inputs).toEqual([{ type: 'TimeSeries', value: 'https://example.org/data.csv' }]);
    expect(config.dataKeys).toEqual(['title']);
  });

  it('accepts Filter, Collapse/Panel, Ranker/Bucket, Label and Choice inside layout Views', () => {
    const config = parseLabelConfig(`<View>
      <List name="results" value="$items" title="Results"/>
      <Ranker name="rank" toName="results"><Bucket name="best" title="Best"/></Ranker>
      <Collapse><Panel value="More"><View><Header value="Hi"/></View></Panel></Collapse>
      <Filter name="f" toName="tags" minlength="0"/>
      <Labels name="tags" toName="results"><View><Label value="A"/></View></Labels>
    </View>`);
    expect(config.parsed.tags!.labels).toEqual(['A']);
    expect(Object.keys(config.parsed)).toEqual(['rank', 'tags']);
  });
});

describe('parseLabelConfig: unsafe or malformed XML', () => {
  it('refuses empty input', () => {
    expect(refusal('')).toMatch(/empty/);
    expect(refusal('  \n ')).toMatch(/empty/);
  });

  it('refuses a DTD', () => {
    expect(refusal('<!DOCTYPE View [<!ELEMENT View ANY>]><View/>')).toMatch(/DOCTYPE/);
  });

  it('refuses an external entity (XXE)', () => {
    const xxe = `<?xml version="1.0"?><!DOCTYPE View [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
      <View><Header value="&secret;"/></View>`;
    expect(refusal(xxe)).toMatch(/DOCTYPE/);
  });

  it('refuses billion laughs', () => {
    const lols = Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i};`.repeat(10)}">`).join('');
    const xml = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">${lols}]><View><Header value="&lol9;"/></View>`;
    expect(refusal(xml)).toMatch(/DOCTYPE/);
  });

  it('refuses a stray entity declaration and undeclared entity references, naming the position', () => {
    expect(refusal('<View><!ENTITY x "y"></View>')).toMatch(/Entity declarations/);
    expect(refusal('<View>\n  <Header value="&nbsp;"/></View>')).toMatch(/Entity reference not allowed at line 2, column \d+/);
  });

  it('accepts the five predefined entities and numeric character references', () => {
    const config = parseLabelConfig('<View><Choices name="c" toName="t"><Choice value="A &amp; B &lt;&gt;&quot;&apos; &#233;&#x41;"/></Choices><Text name="t" value="$t"/></View>');
    expect(config.controls[0]!.labels).toEqual(['A & B <>"\' éA']);
  });

  it('refuses processing instructions other than the XML declaration', () => {
    expect(refusal('<View><?php echo 1; ?></View>')).toMatch(/Processing instructions.*<\?php/);
    expect(refusal('<?xml-stylesheet href="x.xsl"?><View/>')).toMatch(/Processing instructions/);
  });

  it('refuses a 10 MB config quickly, and a multi-byte config over 512 KiB', () => {
    const started = performance.now();
    expect(refusal(`<View><Text name="t" value="${'a'.repeat(10 * 1024 * 1024)}"/></View>`)).toMatch(/larger than 512 KiB/);
    expect(performance.now() - started).toBeLessThan(200);
    const multiByte = `<View><Header value="${'é'.repeat(LABEL_CONFIG_MAX_BYTES / 2)}"/></View>`;
    expect(multiByte.length).toBeLessThan(LABEL_CONFIG_MAX_BYTES);
    expect(refusal(multiByte)).toMatch(/larger than 512 KiB/);
  });

  it('refuses nesting deeper than 64 levels and accepts 64', () => {
    const nest = (depth: number) => `${'<View>'.repeat(depth)}${'</View>'.repeat(depth)}`;
    expect(parseLabelConfig(nest(64)).controls).toEqual([]);
    expect(refusal(nest(65))).toMatch(/nested deeper than 64 levels/);
  });

  it('refuses more than 10,000 elements', () => {
    expect(refusal(`<View>${'<View/>'.repeat(10_000)}</View>`)).toMatch(/more than 10000 elements/);
  });

  it('refuses malformed XML with saxes’ line and column', () => {
    expect(refusal('<View>\n<Text name="t" value="$t">\n</View>')).toMatch(/not well-formed XML at line 3, column \d+: unexpected close tag/);
    expect(refusal('<View><Text name="t" value=$t/></View>')).toMatch(/not well-formed XML at line 1/);
    expect(refusal('<View/><View/>')).toMatch(/not well-formed XML/);
  });

  it('refuses a root other than View', () => {
    expect(refusal('<Image name="i" value="$i"/>')).toMatch(/root element must be <View>, not <Image>/);
    expect(refusal('<view/>')).toMatch(/root element must be <View>, not <view>/);
  });
});

describe('parseLabelConfig: tags', () => {
  it('refuses an unknown tag, naming it', () => {
    expect(refusal('<View>\n<Foo name="x"/></View>')).toMatch(/Unknown tag <Foo> at line 2/);
    expect(refusal('<View><image name="i" value="$i"/></View>')).toMatch(/Unknown tag <image>/);
  });

  it('refuses <script> in any spelling or namespace, and code-running tags', () => {
    expect(refusal('<View><script>alert(1)</script></View>')).toMatch(/Unknown tag <script>/);
    expect(refusal('<View><Script name="s"/></View>')).toMatch(/Unknown tag <Script>/);
    expect(refusal('<View><h:script xmlns:h="http://www.w3.org/1999/xhtml"/></View>')).toMatch(/Unknown tag <h:script>/);
    expect(refusal('<View><ReactCode name="r" toName="r"/></View>')).toMatch(/Unknown tag <ReactCode>/);
    expect(refusal('<View><Repeater on="$items"/></View>')).toMatch(/Unknown tag <Repeater>/);
  });

  it('refuses raw-HTML attributes and CSS that loads resources', () => {
    expect(refusal('<View><Labels name="l" toName="t"><Label value="A" html="&lt;img src=x onerror=alert(1)&gt;"/></Labels><Text name="t" value="$t"/></View>')).toMatch(/html attribute/);
    expect(refusal('<View><Style>@import "https://evil.example/x.css";</Style></View>')).toMatch(/<Style> at line 1 may not load resources/);
    expect(refusal('<View style="background: url(https://evil.example/p.gif)"/>')).toMatch(/style attribute/);
    expect(refusal('<View><Style>&lt;/style&gt;&lt;script&gt;</Style></View>')).toMatch(/may not load resources/);
  });

  it('refuses Label, Choice and Channel outside their owners', () => {
    expect(refusal('<View><Label value="A"/></View>')).toMatch(/<Label> at line 1 must be inside a labels control/);
    expect(refusal('<View><Text name="t" value="$t"/><Choices name="c" toName="t"><Label value="A"/></Choices></View>')).toMatch(/<Label>/);
    expect(refusal('<View><Choice value="A"/></View>')).toMatch(/<Choice> at line 1 must be inside <Choices> or <Taxonomy>/);
    expect(refusal('<View><Text name="t" value="$t"/><Choices name="c" toName="t"><Choice value="A"><Choice value="B"/></Choice></Choices></View>')).toMatch(/Nested <Choice>.*Taxonomy/);
    expect(refusal('<View><TimeSeries name="ts" value="$ts"><Channel/></TimeSeries></View>')).toMatch(/<Channel> at line 1 needs a column/);
  });
});

describe('parseLabelConfig: names, links and labels', () => {
  it('refuses a toName that names no object tag, naming control and name', () => {
    expect(refusal('<View><Image name="image" value="$image"/><RectangleLabels name="box" toName="img"><Label value="A"/></RectangleLabels></View>')).toBe(
      'Control "box" has toName "img", but no object tag is named "img".',
    );
    expect(refusal('<View><Text name="a" value="$a"/><Pairwise name="p" toName="a,b"/></View>')).toMatch(/toName "b"/);
    expect(refusal('<View><Text name="a" value="$a"/><Rating name="r"/></View>')).toMatch(/Control "r" \(<Rating>\) needs a toName/);
  });

  it('refuses a Filter not pointing at a control', () => {
    expect(refusal('<View><Text name="t" value="$t"/><Filter name="f" toName="t"/></View>')).toMatch(/<Filter> "f".*control/);
  });

  it('refuses duplicate names across objects and controls', () => {
    expect(refusal('<View><Image name="image" value="$a"/><Image name="image" value="$b"/></View>')).toMatch(/Duplicate name "image"/);
    expect(refusal('<View><Text name="x" value="$t"/><Choices name="x" toName="x"><Choice value="A"/></Choices></View>')).toMatch(/Duplicate name "x"/);
  });

  it('refuses object tags without a $variable value, naming the tag', () => {
    expect(refusal('<View><Image name="photo" value="https://example.org/cat.jpg"/></View>')).toMatch(/Object tag "photo" \(<Image>\) needs value="\$field"/);
    expect(refusal('<View><Audio name="a" value="clip.mp3"/></View>')).toMatch(/"a" \(<Audio>\)/);
    expect(refusal('<View><HyperText name="h" value="&lt;b&gt;hi&lt;/b&gt;"/></View>')).toMatch(/<HyperText>/);
    expect(refusal('<View><Video name="v"/></View>')).toMatch(/<Video>/);
    expect(refusal('<View><Image value="$i"/></View>')).toMatch(/<Image> at line 1 needs a name/);
  });

  it('refuses label controls without labels, and labels without a value', () => {
    expect(refusal('<View><Image name="i" value="$i"/><RectangleLabels name="l" toName="i"/></View>')).toMatch(/"l" \(<RectangleLabels>\) needs at least one <Label>/);
    expect(refusal('<View><Text name="t" value="$t"/><Choices name="c" toName="t"></Choices></View>')).toMatch(/needs at least one <Choice>/);
    expect(refusal('<View><Text name="t" value="$t"/><Labels name="l" toName="t"><Label alias="A"/></Labels></View>')).toMatch(/<Label> at line 1 in control "l" needs a value/);
    expect(refusal('<View><Relations/></View>')).toMatch(/needs at least one <Relation>/);
    expect(refusal('<View><Text name="t" value="$t"/><Taxonomy name="x" toName="t" apiUrl="https://example.org/tree"/></View>')).toMatch(/apiUrl/);
  });
});

describe('parseLabelConfig: hostile names', () => {
  it('treats __proto__ and constructor as ordinary names and labels', () => {
    const config = parseLabelConfig(`<View><Text name="__proto__" value="$t"/>
      <Labels name="constructor" toName="__proto__"><Label value="__proto__"/><Label value="constructor"/><Label value="toString"/></Labels></View>`);
    expect(config.controls[0]!.labels).toEqual(['__proto__', 'constructor', 'toString']);
    expect(Object.keys(config.parsed)).toEqual(['constructor']);
    expect(Object.keys(Object.values(config.parsed)[0]!.labels_attrs)).toEqual(['__proto__', 'constructor', 'toString']);
    expect(({} as Record<string, unknown>).value).toBeUndefined();
  });

  it('keeps numeric-looking labels in document order', () => {
    const config = parseLabelConfig('<View><Text name="t" value="$t"/><Choices name="year" toName="t"><Choice value="Other"/><Choice value="2024"/><Choice value="1999"/></Choices></View>');
    expect(config.controls[0]!.labels).toEqual(['Other', '2024', '1999']);
    expect(config.parsed.year!.labels).toEqual(['Other', '2024', '1999']);
  });
});
