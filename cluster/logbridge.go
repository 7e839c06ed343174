package cluster

import (
	"bytes"
	"context"
	"io"
	"log"
	"log/slog"

	"github.com/hashicorp/go-hclog"
)

// slogWriter turns the line-oriented logs of raft (hclog) and memberlist
// (log.Logger) into slog records, so a node logs through one Logger.
type slogWriter struct {
	log   *slog.Logger
	level slog.Level
	name  string
}

func (w slogWriter) Write(p []byte) (int, error) {
	msg := string(bytes.TrimRight(p, "\n"))
	level := w.level
	switch {
	case bytes.Contains(p, []byte("[ERR")):
		level = slog.LevelError
	case bytes.Contains(p, []byte("[WARN")):
		level = slog.LevelWarn
	case bytes.Contains(p, []byte("[DEBUG")), bytes.Contains(p, []byte("[TRACE")):
		level = slog.LevelDebug
	}
	w.log.Log(context.Background(), level, msg, "component", w.name)
	return len(p), nil
}

func hclogFor(l *slog.Logger, name string) hclog.Logger {
	level := hclog.Info
	if !l.Enabled(context.Background(), slog.LevelInfo) {
		level = hclog.Warn
	}
	if l.Enabled(context.Background(), slog.LevelDebug) {
		level = hclog.Debug
	}
	return hclog.New(&hclog.LoggerOptions{
		Name:            name,
		Level:           level,
		Output:          slogWriter{log: l, level: slog.LevelInfo, name: name},
		DisableTime:     true,
		IncludeLocation: false,
	})
}

func stdlogFor(l *slog.Logger, name string) *log.Logger {
	var w io.Writer = slogWriter{log: l, level: slog.LevelInfo, name: name}
	return log.New(w, "", 0)
}
