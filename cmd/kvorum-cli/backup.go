package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/kvorum/kvorum/client"
)

// backupTo writes the cluster's backup (KVORUM.BACKUP, answered by the
// leader, whichever node the client reached first) to path. It writes a
// temporary file beside path and renames it, so path is either the whole
// backup or untouched.
func backupTo(ctx context.Context, c *client.Client, path string) (int, error) {
	v, err := c.Do(ctx, "KVORUM.BACKUP")
	if err != nil {
		return 0, err
	}
	data := v.TextBytes()
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp.Name()) // gone after the rename; the leftover after a failure
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return 0, err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return 0, err
	}
	if err := tmp.Close(); err != nil {
		return 0, err
	}
	return len(data), os.Rename(tmp.Name(), path)
}

// restoreFrom sends the backup in path to the cluster's leader
// (KVORUM.RESTORE, with FORCE to replace keys it holds).
func restoreFrom(ctx context.Context, c *client.Client, path string, force bool) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	args := []any{"KVORUM.RESTORE", data}
	if force {
		args = append(args, "FORCE")
	}
	if _, err := c.Do(ctx, args...); err != nil {
		return 0, fmt.Errorf("restore %s: %w", path, err)
	}
	return len(data), nil
}
