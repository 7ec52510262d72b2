package sweep

import (
	"bytes"

	"gopkg.in/yaml.v3"
)

// IsSweepFile reports whether raw looks like a sweep file (a YAML mapping
// with a base or grid key) rather than an experiment file, so that
// `bsam config validate` can validate either kind.
func IsSweepFile(raw []byte) bool {
	var doc yaml.Node
	if yaml.NewDecoder(bytes.NewReader(raw)).Decode(&doc) != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return false
	}
	root := doc.Content[0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		if k := root.Content[i].Value; k == "base" || k == "grid" {
			return true
		}
	}
	return false
}
