package fhir

// SetTag makes code the one meta.tag coding of system, keeping the tags
// of other systems in their order: a server sets a tag of its own system
// on every version it stores, whatever the client sent in its place.
func (r *Resource) SetTag(system, code string) {
	m, ok := r.tree["meta"].(map[string]any)
	if !ok {
		m = make(map[string]any, 3)
		r.tree["meta"] = m
	}
	old, _ := m["tag"].([]any)
	tags := make([]any, 0, len(old)+1)
	for _, t := range old {
		if c, ok := t.(map[string]any); ok && c["system"] != system {
			tags = append(tags, t)
		}
	}
	m["tag"] = append(tags, map[string]any{"system": system, "code": code})
}

// Tag returns the code of r's meta.tag coding of system, or "".
func (r *Resource) Tag(system string) string {
	m, _ := r.tree["meta"].(map[string]any)
	tags, _ := m["tag"].([]any)
	for _, t := range tags {
		if c, ok := t.(map[string]any); ok && c["system"] == system {
			code, _ := c["code"].(string)
			return code
		}
	}
	return ""
}
