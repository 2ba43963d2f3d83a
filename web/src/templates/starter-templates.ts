/**
 * The template gallery: the server's twelve starter labeling configs (one source, shared with
 * the parser's tests), each with a name, a line of description and a sample task that shows
 * the data fields the config reads.
 */
import { STARTER_CONFIGS } from '../../../src/modules/label-config/starter-configs';
import type { IconName } from '../components/icon';

export type TemplateKey = keyof typeof STARTER_CONFIGS;

export interface Template {
  key: TemplateKey;
  title: string;
  group: 'Computer vision' | 'Natural language' | 'Audio' | 'Video' | 'Time series' | 'Ranking';
  icon: IconName;
  description: string;
  config: string;
  /** One task for the import box's example. */
  sample: Record<string, unknown>;
}

const IMAGE = 'https://example.com/images/1.jpg';

const META: Record<TemplateKey, Omit<Template, 'key' | 'config'>> = {
  imageClassification: { title: 'Image classification', group: 'Computer vision', icon: 'image', description: 'Pick one class per image.', sample: { image: IMAGE } },
  boundingBoxes: { title: 'Object detection', group: 'Computer vision', icon: 'box', description: 'Draw labeled bounding boxes.', sample: { image: IMAGE } },
  polygons: { title: 'Polygon segmentation', group: 'Computer vision', icon: 'polygon', description: 'Outline regions with polygons.', sample: { image: IMAGE } },
  keypoints: { title: 'Keypoints', group: 'Computer vision', icon: 'point', description: 'Place labeled points on a photo.', sample: { photo: IMAGE } },
  textClassification: { title: 'Text classification', group: 'Natural language', icon: 'text', description: 'Sentiment or topic for each text.', sample: { text: 'The delivery was quick and the product works great.' } },
  ner: { title: 'Named entities', group: 'Natural language', icon: 'tag', description: 'Highlight people, organizations, places.', sample: { text: 'Ada Lovelace worked with Charles Babbage in London.' } },
  relationExtraction: { title: 'Relation extraction', group: 'Natural language', icon: 'link', description: 'Label entities and link them.', sample: { text: 'Marie works for Acme and lives in Lyon.' } },
  audioTranscription: { title: 'Audio transcription', group: 'Audio', icon: 'mic', description: 'Write down what is said.', sample: { audio: 'https://example.com/audio/1.wav' } },
  audioSegmentation: { title: 'Speaker segmentation', group: 'Audio', icon: 'wave', description: 'Mark who speaks when.', sample: { audio: 'https://example.com/audio/1.wav' } },
  videoClassification: { title: 'Video classification', group: 'Video', icon: 'film', description: 'Tag the activity in a clip.', sample: { video: 'https://example.com/video/1.mp4' } },
  timeSeries: { title: 'Time series events', group: 'Time series', icon: 'chart', description: 'Label spikes and drops in sensor data.', sample: { csv: 'https://example.com/series/1.csv' } },
  pairwise: { title: 'Pairwise comparison', group: 'Ranking', icon: 'scale', description: 'Choose the better of two answers.', sample: { answer_a: 'Paris is the capital of France.', answer_b: 'France has no capital.' } },
};

/** Every template, in gallery order. */
export const TEMPLATES: Template[] = (Object.keys(META) as TemplateKey[]).map((key) => ({ key, ...META[key], config: STARTER_CONFIGS[key].trim() }));
