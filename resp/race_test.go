//go:build race

package resp

// raceEnabled: the race detector is on, so allocation counts are not ours.
const raceEnabled = true
