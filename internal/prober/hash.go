package prober

import (
	"crypto/sha256"
	"encoding/hex"
)

// shortHash keeps ids and keys within their length limits.
func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:6])
}
