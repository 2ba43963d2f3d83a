import { describe, expect, it } from 'vitest';
import { droppedInUse, labelsUsedIn, mergeLabelUsage } from './config-change.js';
import { parseLabelConfig } from './label-config.parser.js';

const config = (labels: string[], extra = '') =>
  parseLabelConfig(`<View><Text name="text" value="$text"/>
    <Labels name="label" toName="text">${labels.map((l) => `<Label value="${l}"/>`).join('')}</Labels>
    <Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/></Choices>${extra}</View>`);

describe('labelsUsedIn', () => {
  it('collects controls and the label, choice and taxonomy values of results', () => {
    const results = [
      [
        { from_name: 'label', to_name: 'text', type: 'labels', value: { start: 0, end: 3, labels: ['Cat'] } },
        { from_name: 'sentiment', to_name: 'text', type: 'choices', value: { choices: ['Positive'] } },
      ],
      [
        { from_name: 'label', to_name: 'title', type: 'labels', value: { labels: ['Dog', 'Cat'] } },
        { from_name: 'topic', type: 'taxonomy', value: { taxonomy: [['Sport', 'Tennis']] } },
        { from_name: 'box', type: 'rectanglelabels', value: { rectanglelabels: ['Car'] } },
        { from_name: 'stars', type: 'rating', value: { rating: 3 } },
      ],
    ];
    expect(labelsUsedIn(results)).toEqual([
      { from_name: 'label', labels: ['Cat', 'Dog'], to_names: ['text', 'title'] },
      { from_name: 'sentiment', labels: ['Positive'], to_names: ['text'] },
      { from_name: 'topic', labels: ['Sport', 'Tennis'], to_names: [] },
      { from_name: 'box', labels: ['Car'], to_names: [] },
      { from_name: 'stars', labels: [], to_names: [] },
    ]);
  });

  it('skips relations and malformed results without throwing', () => {
    const results = [null, 'x', [null, 3, { type: 'relation', from_id: 'a', to_id: 'b' }, { from_name: 'l', value: 'oops' }]];
    expect(labelsUsedIn(results)).toEqual([{ from_name: 'l', labels: [], to_names: [] }]);
  });

  it('merges the usage of successive batches control by control', () => {
    const first = labelsUsedIn([[{ from_name: 'label', to_name: 'text', value: { labels: ['Cat'] } }]]);
    const second = labelsUsedIn([[{ from_name: 'label', to_name: 'title', value: { labels: ['Cat', 'Dog'] } }, { from_name: 'stars', to_name: 'text', value: { rating: 2 } }]]);
    expect(mergeLabelUsage(first, second)).toEqual([
      { from_name: 'label', labels: ['Cat', 'Dog'], to_names: ['text', 'title'] },
      { from_name: 'stars', labels: [], to_names: ['text'] },
    ]);
  });
});

describe('droppedInUse', () => {
  const used = [
    { from_name: 'label', labels: ['Cat'], to_names: ['text'] },
    { from_name: 'sentiment', labels: ['Positive'], to_names: ['text'] },
  ];

  it('allows adding and reordering labels', () => {
    expect(droppedInUse(config(['Cat', 'Dog']), config(['Bird', 'Dog', 'Cat']), used)).toEqual([]);
  });

  it('allows removing labels and controls nobody uses', () => {
    expect(droppedInUse(config(['Cat', 'Dog']), config(['Cat']), used)).toEqual([]);
    const withRating = config(['Cat'], '<Rating name="stars" toName="text"/>');
    expect(droppedInUse(withRating, config(['Cat']), used)).toEqual([]);
  });

  it('reports a removed label still in use', () => {
    expect(droppedInUse(config(['Cat', 'Dog']), config(['Dog']), used)).toEqual(['label "Cat" of "label" is used by annotations']);
  });

  it('reports a removed control still in use', () => {
    const before = config(['Cat']);
    const after = parseLabelConfig('<View><Text name="text" value="$text"/><Labels name="label" toName="text"><Label value="Cat"/></Labels></View>');
    expect(droppedInUse(before, after, used)).toEqual(['control "sentiment" is used by annotations']);
  });

  it('reports a control in use that changes tag type', () => {
    const after = parseLabelConfig(`<View><Text name="text" value="$text"/><Labels name="label" toName="text"><Label value="Cat"/></Labels>
      <Labels name="sentiment" toName="text"><Label value="Positive"/></Labels></View>`);
    expect(droppedInUse(config(['Cat']), after, used)).toEqual(['control "sentiment" is used by annotations and cannot change from <Choices> to <Labels>']);
  });

  it('ignores usage the old config did not have, and new configs loading labels from task data', () => {
    expect(droppedInUse(config(['Dog']), config(['Dog']), [{ from_name: 'label', labels: ['Cat'], to_names: ['text'] }, { from_name: 'ghost', labels: [], to_names: ['text'] }])).toEqual([]);
    const dynamic = parseLabelConfig(`<View><Text name="text" value="$text"/><Labels name="label" toName="text" value="$labels"/>
      <Choices name="sentiment" toName="text"><Choice value="Positive"/></Choices></View>`);
    expect(droppedInUse(config(['Cat']), dynamic, used)).toEqual([]);
    expect(droppedInUse(dynamic, config(['Dog']), used)).toEqual(['label "Cat" of "label" is used by annotations']);
  });

  it('reports a control in use moved off an object its results label, and allows adding objects', () => {
    const twoTexts = (toName: string) =>
      parseLabelConfig(`<View><Text name="text" value="$text"/><Text name="title" value="$title"/>
        <Labels name="label" toName="${toName}"><Label value="Cat"/></Labels>
        <Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/></Choices></View>`);
    expect(droppedInUse(twoTexts('text'), twoTexts('title'), used)).toEqual(['control "label" is used by annotations of object "text" and cannot stop labeling it']);
    expect(droppedInUse(twoTexts('text'), twoTexts('text,title'), used)).toEqual([]);
    expect(droppedInUse(twoTexts('title'), twoTexts('text'), used)).toEqual([]); // "text" was not the old config's
  });

  it('keeps a label reachable through its alias', () => {
    const aliased = parseLabelConfig(`<View><Text name="text" value="$text"/><Labels name="label" toName="text"><Label value="Feline" alias="Cat"/></Labels>
      <Choices name="sentiment" toName="text"><Choice value="Positive"/></Choices></View>`);
    expect(droppedInUse(config(['Cat']), aliased, used)).toEqual([]);
  });

  it('works end to end with labelsUsedIn', () => {
    const results = [[{ from_name: 'label', type: 'labels', value: { labels: ['Cat', 'Dog'] } }]];
    expect(droppedInUse(config(['Cat', 'Dog']), config(['Bird']), labelsUsedIn(results))).toEqual([
      'label "Cat" of "label" is used by annotations',
      'label "Dog" of "label" is used by annotations',
    ]);
  });
});
