// Package logtest holds what tests need around log/slog.
package logtest

import (
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
)

// Counting returns a handler that passes every record on to h and adds one
// to n for each whose message starts with prefix: a test counts how often
// a line was logged (once per event, not once per pass).
func Counting(h slog.Handler, prefix string, n *atomic.Int64) slog.Handler {
	return counting{h, prefix, n}
}

type counting struct {
	slog.Handler
	prefix string
	n      *atomic.Int64
}

func (h counting) Handle(ctx context.Context, r slog.Record) error {
	if strings.HasPrefix(r.Message, h.prefix) {
		h.n.Add(1)
	}
	return h.Handler.Handle(ctx, r)
}

func (h counting) WithAttrs(as []slog.Attr) slog.Handler {
	return counting{h.Handler.WithAttrs(as), h.prefix, h.n}
}

func (h counting) WithGroup(name string) slog.Handler {
	return counting{h.Handler.WithGroup(name), h.prefix, h.n}
}
