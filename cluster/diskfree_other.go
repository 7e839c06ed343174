//go:build !unix

package cluster

import "errors"

// freeBytes is not measured here: the guard stays open.
func freeBytes(string) (uint64, error) {
	return 0, errors.New("free space is not measured on this platform")
}
