package main

import (
	"encoding/json"
	"fmt"
)

// infoBytes presents a peer's info value as bytes: bytes and strings as
// they are, anything else the library stored (the secure node's "ping", a
// float of seconds) as JSON text.
func infoBytes(v any) []byte {
	switch x := v.(type) {
	case []byte:
		return x
	case string:
		return []byte(x)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return []byte(fmt.Sprint(v))
	}
	return b
}
