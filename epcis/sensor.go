package epcis

import "strconv"

func (b *builder) sensorElements(list *node) []SensorElement {
	var out []SensorElement
	for j, se := range list.kidsOrNil() {
		f := "sensorElementList[" + strconv.Itoa(j) + "]"
		el := SensorElement{Extensions: extensionsOf(se.kids)}
		if md := se.child("sensorMetadata"); md != nil {
			el.Metadata = SensorMetadata{
				Time:                 b.timestamp(md.child("time"), f+".sensorMetadata.time", false),
				StartTime:            b.timestamp(md.child("startTime"), f+".sensorMetadata.startTime", false),
				EndTime:              b.timestamp(md.child("endTime"), f+".sensorMetadata.endTime", false),
				DeviceID:             md.textOf("deviceID"),
				DeviceMetadata:       md.textOf("deviceMetadata"),
				RawData:              md.textOf("rawData"),
				DataProcessingMethod: md.textOf("dataProcessingMethod"),
				BizRules:             md.textOf("bizRules"),
				Extensions:           extensionsOf(md.kids),
			}
		}
		for k, r := range se.children("sensorReport") {
			el.Reports = append(el.Reports, b.sensorReport(r, f+".sensorReport["+strconv.Itoa(k)+"]"))
		}
		out = append(out, el)
	}
	return out
}

func (b *builder) sensorReport(r *node, f string) SensorReport {
	rep := SensorReport{
		Type:                      b.vocabValue(r.child("type"), f+".type", sensorVocab),
		Exception:                 b.vocabValue(r.child("exception"), f+".exception", sensorVocab),
		DeviceID:                  r.textOf("deviceID"),
		DeviceMetadata:            r.textOf("deviceMetadata"),
		RawData:                   r.textOf("rawData"),
		DataProcessingMethod:      r.textOf("dataProcessingMethod"),
		Time:                      b.timestamp(r.child("time"), f+".time", false),
		Microorganism:             r.textOf("microorganism"),
		ChemicalSubstance:         r.textOf("chemicalSubstance"),
		Component:                 b.vocabValue(r.child("component"), f+".component", compVocab),
		StringValue:               r.textOf("stringValue"),
		BooleanValue:              r.textOf("booleanValue"),
		HexBinaryValue:            r.textOf("hexBinaryValue"),
		URIValue:                  r.textOf("uriValue"),
		UOM:                       r.textOf("uom"),
		CoordinateReferenceSystem: r.textOf("coordinateReferenceSystem"),
		Extensions:                extensionsOf(r.kids),
	}
	for _, d := range []struct {
		name string
		to   *Decimal
	}{{"value", &rep.Value}, {"minValue", &rep.MinValue}, {"maxValue", &rep.MaxValue},
		{"meanValue", &rep.MeanValue}, {"sDev", &rep.SDev}, {"percRank", &rep.PercRank}, {"percValue", &rep.PercValue}} {
		*d.to = Decimal(r.textOf(d.name))
		if *d.to != "" && !d.to.Valid() {
			b.fail(f+"."+d.name, "not a number")
		}
	}
	switch rep.BooleanValue {
	case "True", "False": // the JSON decoder renders booleans as the reference does
		rep.BooleanValue = map[string]string{"True": "true", "False": "false"}[rep.BooleanValue]
	case "", "true", "false", "1", "0":
	default:
		b.fail(f+".booleanValue", "not a boolean")
	}
	return rep
}
