//go:build !kvorum_broken

package door

// brokenStore is the identity: only a kvorum_broken build (broken.go)
// plants a bug here.
func brokenStore(s Store) Store { return s }
