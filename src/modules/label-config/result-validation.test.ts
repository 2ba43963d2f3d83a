import { describe, expect, it } from 'vitest';
import { parseLabelConfig } from './label-config.parser.js';
import { RESULT_MAX_ITEMS, resultProblem } from './result-validation.js';
import { STARTER_CONFIGS } from './starter-configs.js';

const boxes = parseLabelConfig(STARTER_CONFIGS.boundingBoxes);
const box = (labels: unknown, extra: Record<string, unknown> = {}) => ({
  id: 'r1',
  from_name: 'label',
  to_name: 'image',
  type: 'rectanglelabels',
  original_width: 640,
  original_height: 480,
  value: { x: 10, y: 20, width: 30, height: 40, rotation: 0, rectanglelabels: labels },
  ...extra,
});

describe('resultProblem: accepted results', () => {
  it('accepts an empty result and valid boxes', () => {
    expect(resultProblem(boxes, [])).toBeNull();
    expect(resultProblem(boxes, [box(['Car']), box(['Plane'], { id: 'r2' })])).toBeNull();
  });

  it('accepts choices by value or alias', () => {
    const config = parseLabelConfig(STARTER_CONFIGS.imageClassification);
    const choices = (values: string[]) => [{ id: 'c', from_name: 'choice', to_name: 'image', type: 'choices', value: { choices: values } }];
    expect(resultProblem(config, choices(['Cat']))).toBeNull();
    expect(resultProblem(config, choices(['D']))).toBeNull();
  });

  it('accepts NER spans and relations between them', () => {
    const config = parseLabelConfig(STARTER_CONFIGS.relationExtraction);
    const span = (id: string, label: string) => ({ id, from_name: 'entities', to_name: 'doc', type: 'labels', value: { start: 0, end: 4, text: 'Anna', labels: [label] } });
    const result = [span('a', 'Person'), span('b', 'Place'), { type: 'relation', from_id: 'a', to_id: 'b', direction: 'right', labels: ['lives in'] }];
    expect(resultProblem(config, result)).toBeNull();
  });

  it('accepts transcriptions, ratings, numbers, dates, pairwise and ranker results', () => {
    const transcript = parseLabelConfig(STARTER_CONFIGS.audioTranscription);
    expect(resultProblem(transcript, [{ from_name: 'transcript', to_name: 'audio', type: 'textarea', value: { text: ['hello'] } }])).toBeNull();
    const inputs = parseLabelConfig(`<View><Text name="t" value="$t"/><Rating name="r" toName="t"/><Number name="n" toName="t"/>
      <DateTime name="d" toName="t" only="date"/></View>`);
    const ok = [
      { from_name: 'r', to_name: 't', type: 'rating', value: { rating: 4 } },
      { from_name: 'n', to_name: 't', type: 'number', value: { number: 7.5 } },
      { from_name: 'd', to_name: 't', type: 'datetime', value: { datetime: '2024-05-01' } },
    ];
    expect(resultProblem(inputs, ok)).toBeNull();
    const pairwise = parseLabelConfig(STARTER_CONFIGS.pairwise);
    expect(resultProblem(pairwise, [{ from_name: 'preference', to_name: 'left', type: 'pairwise', value: { selected: 'left' } }])).toBeNull();
    const ranker = parseLabelConfig('<View><List name="items" value="$items"/><Ranker name="rank" toName="items"/></View>');
    expect(resultProblem(ranker, [{ from_name: 'rank', to_name: 'items', type: 'ranker', value: { ranker: ['b', 'a'] } }])).toBeNull();
  });

  it('checks each element of Taxonomy paths', () => {
    const config = parseLabelConfig(`<View><Text name="t" value="$t"/>
      <Taxonomy name="topic" toName="t"><Choice value="Sport"><Choice value="Tennis"/></Choice></Taxonomy></View>`);
    const taxonomy = (value: unknown) => [{ from_name: 'topic', to_name: 't', type: 'taxonomy', value: { taxonomy: value } }];
    expect(resultProblem(config, taxonomy([['Sport'], ['Sport', 'Tennis']]))).toBeNull();
    expect(resultProblem(config, taxonomy([['Sport', 'Golf']]))).toBe('result[0]: choice "Golf" is not in control "topic"');
    expect(resultProblem(config, taxonomy(['Sport']))).toMatch(/value.taxonomy must be an array of paths/);
  });

  it('skips label membership for labels loaded from task data', () => {
    const config = parseLabelConfig('<View><Text name="t" value="$t"/><Choices name="c" toName="t" value="$options"/></View>');
    expect(resultProblem(config, [{ from_name: 'c', to_name: 't', type: 'choices', value: { choices: ['anything'] } }])).toBeNull();
  });

  it('checks the labels a VideoRectangle carries against the labels controls of its video', () => {
    const config = parseLabelConfig(`<View><Video name="video" value="$video"/><VideoRectangle name="box" toName="video"/>
      <Labels name="kind" toName="video"><Label value="Car"/></Labels></View>`);
    const track = (labels: string[]) => [{ from_name: 'box', to_name: 'video', type: 'videorectangle', value: { sequence: [], labels } }];
    expect(resultProblem(config, track(['Car']))).toBeNull();
    expect(resultProblem(config, track(['Bus']))).toBe('result[0]: label "Bus" is not in any labels control for "video"');
  });
});

describe('resultProblem: refused results', () => {
  it('refuses a non-array and an oversize array', () => {
    expect(resultProblem(boxes, { from_name: 'label' })).toBe('result must be an array');
    expect(resultProblem(boxes, null)).toBe('result must be an array');
    expect(resultProblem(boxes, Array.from({ length: RESULT_MAX_ITEMS + 1 }, () => box(['Car'])))).toMatch(/more than 10000 items/);
  });

  it('refuses an item that is not an object', () => {
    expect(resultProblem(boxes, [box(['Car']), 'Car'])).toBe('result[1]: must be an object');
    expect(resultProblem(boxes, [[box(['Car'])]])).toBe('result[0]: must be an object');
  });

  it('refuses an unknown from_name, a to_name not connected to it, and a mismatched type', () => {
    expect(resultProblem(boxes, [box(['Car'], { from_name: 'nope' })])).toBe('result[0]: from_name "nope" is not a control in the labeling config');
    expect(resultProblem(boxes, [box(['Car'], { from_name: undefined })])).toBe('result[0]: from_name must be a string');
    expect(resultProblem(boxes, [box(['Car'], { to_name: 'photo' })])).toBe('result[0]: to_name "photo" is not an object of control "label"');
    expect(resultProblem(boxes, [box(['Car'], { type: 'polygonlabels' })])).toBe(
      'result[0]: type "polygonlabels" does not match control "label" (expected "rectanglelabels")',
    );
  });

  it('refuses a label the control does not have, naming index and control', () => {
    expect(resultProblem(boxes, [box(['Car']), box(['Car']), box(['Dog'])])).toBe('result[2]: label "Dog" is not in control "label"');
    const text = parseLabelConfig(STARTER_CONFIGS.textClassification);
    const choice = { from_name: 'sentiment', to_name: 'review', type: 'choices', value: { choices: ['Angry'] } };
    expect(resultProblem(text, [choice])).toBe('result[0]: choice "Angry" is not in control "sentiment"');
  });

  it('refuses missing or malformed values', () => {
    expect(resultProblem(boxes, [box(['Car'], { value: 'Car' })])).toBe('result[0]: value must be an object');
    expect(resultProblem(boxes, [box('Car')])).toBe('result[0]: value.rectanglelabels must be an array');
    expect(resultProblem(boxes, [box([3])])).toBe('result[0]: value.rectanglelabels must be an array of strings');
    const transcript = parseLabelConfig(STARTER_CONFIGS.audioTranscription);
    expect(resultProblem(transcript, [{ from_name: 'transcript', to_name: 'audio', type: 'textarea', value: { text: 'hi' } }])).toMatch(/value.text must be an array of strings/);
  });

  it('refuses relations with unknown labels or without region ids', () => {
    const config = parseLabelConfig(STARTER_CONFIGS.relationExtraction);
    expect(resultProblem(config, [{ type: 'relation', from_id: 'a', to_id: 'b', labels: ['married to'] }])).toBe(
      'result[0]: relation label "married to" is not in <Relations>',
    );
    expect(resultProblem(config, [{ type: 'relation', from_id: 'a' }])).toMatch(/needs string from_id and to_id/);
    expect(resultProblem(config, [{ type: 'relation', from_id: 'a', to_id: 'b', direction: 'up' }])).toMatch(/direction/);
    expect(resultProblem(boxes, [{ type: 'relation', from_id: 'a', to_id: 'b', labels: ['x'] }])).toMatch(/not in <Relations>/);
  });
});
