package cluster

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/kvorum/kvorum/cluster/door"
)

// Settings returns the settings CONFIG GET reports (door.Store).
func (n *Node) Settings() door.Settings {
	maxClients := n.cfg.MaxClients
	if maxClients <= 0 {
		maxClients = 10000 // resp.Config's default, which the client listener then takes
	}
	return door.Settings{ListenAddr: n.cfg.ClientAddr, MaxClients: maxClients, IdleTimeout: n.cfg.IdleTimeout}
}

// Snapshots describes the node's Raft snapshots for INFO persistence
// (door.Store): the latest one the snapshot store lists, and whether one
// is being written, which hashicorp/raft's FileSnapshotStore shows as a
// directory named *.tmp until the snapshot is complete. A *.tmp directory
// older than this process is the leftover of a crash, not a snapshot in
// progress. It reads the snapshot directory: cheap, but not for a hot path.
func (n *Node) Snapshots() door.Snapshots {
	var out door.Snapshots
	dir := filepath.Join(n.cfg.DataDir, "snapshots") // FileSnapshotStore's own layout
	if list, err := n.snaps.List(); err == nil && len(list) > 0 {
		latest := list[0] // newest first
		out.LastIndex, out.LastSize = latest.Index, latest.Size
		// meta.json is rewritten when the snapshot is closed: its time
		// is when the snapshot was complete.
		if fi, err := os.Stat(filepath.Join(dir, latest.ID, "meta.json")); err == nil {
			out.LastTime = fi.ModTime()
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !e.IsDir() || !strings.HasSuffix(e.Name(), ".tmp") {
			continue
		}
		if fi, err := e.Info(); err == nil && !fi.ModTime().Before(n.started) {
			out.InProgress = true
		}
	}
	return out
}
