package cluster

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"strconv"
	"strings"

	"github.com/hashicorp/go-hclog"
)

// The node logs through one *slog.Logger. raft speaks hclog and memberlist
// a *log.Logger; the bridges below map their levels to slog's, so a line
// carries its level once (level=WARN msg="..." component=raft), and keep
// hclog's key/value pairs as slog attributes.

// slogLevel maps an hclog level to slog's: Trace is one step below Debug
// (slog prints it as DEBUG-4), NoLevel and Info are Info.
func slogLevel(l hclog.Level) slog.Level {
	switch l {
	case hclog.Trace:
		return slog.LevelDebug - 4
	case hclog.Debug:
		return slog.LevelDebug
	case hclog.Warn:
		return slog.LevelWarn
	case hclog.Error:
		return slog.LevelError
	}
	return slog.LevelInfo
}

// hclogAdapter is an hclog.Logger that logs to a slog.Logger. The slog
// handler decides what is enabled; SetLevel is ignored.
type hclogAdapter struct {
	root    *slog.Logger // the node's logger
	log     *slog.Logger // root with component=name and the implied args
	name    string
	implied []any
}

// hclogFor returns an hclog.Logger for raft that logs to l with
// component=name.
func hclogFor(l *slog.Logger, name string) hclog.Logger {
	return newHclogAdapter(l, name, nil)
}

func newHclogAdapter(root *slog.Logger, name string, implied []any) *hclogAdapter {
	return &hclogAdapter{root: root, log: root.With("component", name).With(implied...), name: name, implied: implied}
}

func (a *hclogAdapter) Log(level hclog.Level, msg string, args ...any) {
	if level == hclog.Off {
		return
	}
	a.log.Log(context.Background(), slogLevel(level), msg, hclogArgs(args)...)
}

// hclogArgs renders the values hclog formats itself (hclog.Fmt, Hex,
// Octal, Binary), which slog would print as Go values ("[%+v []]").
func hclogArgs(args []any) []any {
	var out []any
	for i, v := range args {
		var s string
		switch v := v.(type) {
		case hclog.Format:
			if len(v) > 0 {
				f, _ := v[0].(string)
				s = fmt.Sprintf(f, v[1:]...)
			}
		case hclog.Hex:
			s = "0x" + strconv.FormatInt(int64(v), 16)
		case hclog.Octal:
			s = "0" + strconv.FormatInt(int64(v), 8)
		case hclog.Binary:
			s = "0b" + strconv.FormatInt(int64(v), 2)
		default:
			continue
		}
		if out == nil {
			out = append([]any(nil), args...)
		}
		out[i] = s
	}
	if out == nil {
		return args
	}
	return out
}

func (a *hclogAdapter) Trace(msg string, args ...any) { a.Log(hclog.Trace, msg, args...) }
func (a *hclogAdapter) Debug(msg string, args ...any) { a.Log(hclog.Debug, msg, args...) }
func (a *hclogAdapter) Info(msg string, args ...any)  { a.Log(hclog.Info, msg, args...) }
func (a *hclogAdapter) Warn(msg string, args ...any)  { a.Log(hclog.Warn, msg, args...) }
func (a *hclogAdapter) Error(msg string, args ...any) { a.Log(hclog.Error, msg, args...) }

func (a *hclogAdapter) enabled(l hclog.Level) bool {
	return a.log.Enabled(context.Background(), slogLevel(l))
}

func (a *hclogAdapter) IsTrace() bool { return a.enabled(hclog.Trace) }
func (a *hclogAdapter) IsDebug() bool { return a.enabled(hclog.Debug) }
func (a *hclogAdapter) IsInfo() bool  { return a.enabled(hclog.Info) }
func (a *hclogAdapter) IsWarn() bool  { return a.enabled(hclog.Warn) }
func (a *hclogAdapter) IsError() bool { return a.enabled(hclog.Error) }

func (a *hclogAdapter) ImpliedArgs() []any { return a.implied }

func (a *hclogAdapter) With(args ...any) hclog.Logger {
	implied := append(a.implied[:len(a.implied):len(a.implied)], args...)
	return newHclogAdapter(a.root, a.name, implied)
}

func (a *hclogAdapter) Name() string { return a.name }

// Named returns a logger whose component is name under this one's (hclog
// joins names with a dot); ResetNamed replaces the name.
func (a *hclogAdapter) Named(name string) hclog.Logger {
	if a.name != "" {
		name = a.name + "." + name
	}
	return a.ResetNamed(name)
}

func (a *hclogAdapter) ResetNamed(name string) hclog.Logger {
	return newHclogAdapter(a.root, name, a.implied)
}

func (a *hclogAdapter) SetLevel(hclog.Level) {}

func (a *hclogAdapter) GetLevel() hclog.Level {
	for _, l := range []hclog.Level{hclog.Trace, hclog.Debug, hclog.Info, hclog.Warn} {
		if a.enabled(l) {
			return l
		}
	}
	return hclog.Error
}

func (a *hclogAdapter) StandardLogger(*hclog.StandardLoggerOptions) *log.Logger {
	return log.New(a.StandardWriter(nil), "", 0)
}

func (a *hclogAdapter) StandardWriter(*hclog.StandardLoggerOptions) io.Writer {
	return slogWriter{log: a.log}
}

// slogWriter turns memberlist's lines ("[WARN] memberlist: msg") into slog
// records: the bracketed level becomes the record's level and is cut from
// the message, with the "name: " prefix the component attribute repeats.
// A line without a level is logged at Info.
type slogWriter struct {
	log  *slog.Logger
	name string
}

func (w slogWriter) Write(p []byte) (int, error) {
	level, msg := parseLevel(string(bytes.TrimRight(p, "\r\n")))
	if w.name != "" {
		msg = strings.TrimPrefix(msg, w.name+": ")
	}
	w.log.Log(context.Background(), level, msg)
	return len(p), nil
}

// parseLevel splits a leading "[LEVEL]" off line: memberlist's [DEBUG],
// [INFO], [WARN] and [ERR], and hclog's [TRACE] and [ERROR].
func parseLevel(line string) (slog.Level, string) {
	rest, ok := strings.CutPrefix(line, "[")
	if !ok {
		return slog.LevelInfo, line
	}
	tag, msg, ok := strings.Cut(rest, "]")
	if !ok {
		return slog.LevelInfo, line
	}
	var level slog.Level
	switch tag {
	case "TRACE":
		level = slog.LevelDebug - 4
	case "DEBUG":
		level = slog.LevelDebug
	case "INFO":
		level = slog.LevelInfo
	case "WARN":
		level = slog.LevelWarn
	case "ERR", "ERROR":
		level = slog.LevelError
	default:
		return slog.LevelInfo, line
	}
	return level, strings.TrimLeft(msg, " ")
}

func stdlogFor(l *slog.Logger, name string) *log.Logger {
	return log.New(slogWriter{log: l.With("component", name), name: name}, "", 0)
}
