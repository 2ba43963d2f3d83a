/**
 * Twelve starter labeling configs, one per common labeling task: the templates a new project
 * can start from, and the configs the parser's tests prove. Each is valid Label Studio XML.
 */
export const STARTER_CONFIGS = {
  imageClassification: `
<View>
  <Image name="image" value="$image"/>
  <Choices name="choice" toName="image" choice="single-radio" showInline="true">
    <Choice value="Cat"/>
    <Choice value="Dog" alias="D"/>
  </Choices>
</View>`,

  boundingBoxes: `
<View>
  <Image name="image" value="$image" zoomControl="true"/>
  <RectangleLabels name="label" toName="image">
    <Label value="Car" background="#ff0000"/>
    <Label value="Plane" background="#0000ff" hotkey="p"/>
  </RectangleLabels>
</View>`,

  polygons: `
<View>
  <Header value="Outline every building"/>
  <Image name="image" value="$image"/>
  <PolygonLabels name="outline" toName="image" strokeWidth="3" pointSize="small">
    <Label value="Building"/>
    <Label value="Road"/>
  </PolygonLabels>
</View>`,

  keypoints: `
<View>
  <KeyPointLabels name="points" toName="photo">
    <Label value="Left eye" background="#00ff00"/>
    <Label value="Right eye"/>
  </KeyPointLabels>
  <Image name="photo" value="$photo"/>
</View>`,

  textClassification: `
<View>
  <Text name="review" value="$text"/>
  <View style="margin-top: 1em">
    <Header value="What is the sentiment?"/>
    <Choices name="sentiment" toName="review" choice="single" required="true">
      <Choice value="Positive"/>
      <Choice value="Negative"/>
      <Choice value="Neutral"/>
    </Choices>
  </View>
</View>`,

  ner: `
<View>
  <Labels name="entities" toName="doc">
    <Label value="Person"/>
    <Label value="Organization"/>
    <Label value="Location"/>
  </Labels>
  <Text name="doc" value="$text" granularity="word"/>
</View>`,

  relationExtraction: `
<View>
  <Relations choice="multiple">
    <Relation value="works for"/>
    <Relation value="lives in"/>
  </Relations>
  <Labels name="entities" toName="doc">
    <Label value="Person"/>
    <Label value="Place"/>
  </Labels>
  <Text name="doc" value="$text"/>
</View>`,

  audioTranscription: `
<View>
  <Audio name="audio" value="$audio"/>
  <TextArea name="transcript" toName="audio" rows="4" editable="true" maxSubmissions="1">
    <Shortcut value="[inaudible]" hotkey="ctrl+i"/>
  </TextArea>
</View>`,

  audioSegmentation: `
<View>
  <Labels name="speaker" toName="audio" choice="multiple">
    <Label value="Speaker 1"/>
    <Label value="Speaker 2"/>
  </Labels>
  <Audio name="audio" value="$audio"/>
</View>`,

  videoClassification: `
<View>
  <Video name="video" value="$video"/>
  <Choices name="activity" toName="video" choice="multiple">
    <Choice value="Walking"/>
    <Choice value="Running"/>
  </Choices>
</View>`,

  timeSeries: `
<View>
  <TimeSeriesLabels name="event" toName="sensors">
    <Label value="Spike"/>
    <Label value="Drop"/>
  </TimeSeriesLabels>
  <TimeSeries name="sensors" value="$csv" valueType="url" timeColumn="time">
    <Channel column="temperature" legend="Temperature"/>
    <Channel column="pressure"/>
  </TimeSeries>
</View>`,

  pairwise: `
<View>
  <Pairwise name="preference" toName="left,right" selectionStyle="background-color: #eee"/>
  <View style="display: flex">
    <Text name="left" value="$answer_a"/>
    <Text name="right" value="$answer_b"/>
  </View>
</View>`,
} as const;
