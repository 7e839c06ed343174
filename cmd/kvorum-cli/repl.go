package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/chzyer/readline"
)

// repl runs the interactive prompt until quit, exit, Ctrl-D, or Ctrl-C on
// an empty line. The prompt shows the node commands go to: the leader once
// a redirect named it.
func (s *session) repl() int {
	rl, err := readline.NewEx(&readline.Config{
		Prompt:            s.prompt(),
		HistoryFile:       historyFile(),
		HistorySearchFold: true,
		InterruptPrompt:   "^C",
	})
	if err != nil {
		fmt.Fprintf(s.errw, "Error: starting the prompt: %v\n", err)
		return 1
	}
	defer rl.Close()
	for {
		rl.SetPrompt(s.prompt())
		text, err := rl.Readline()
		switch {
		case errors.Is(err, readline.ErrInterrupt):
			if text == "" {
				return 0
			}
			continue
		case errors.Is(err, io.EOF):
			return 0
		case err != nil:
			fmt.Fprintf(s.errw, "Error: %v\n", err)
			return 1
		}
		switch strings.ToLower(strings.TrimSpace(text)) {
		case "quit", "exit":
			return 0
		case "help":
			fmt.Fprintln(s.out, "Type a command (nested values as literals: MSET k ['a', 1] or SET k {'f': [1, 2]}); quit to leave.")
			continue
		}
		s.line(text)
	}
}

func (s *session) prompt() string {
	if l := s.c.Leader(); l != "" {
		return l + "> "
	}
	return s.addr + "> "
}

// historyFile returns KVORUMCLI_HISTFILE if set (empty: no history), else
// ~/.kvorumcli_history, or "" without a home directory.
func historyFile() string {
	if f, ok := os.LookupEnv("KVORUMCLI_HISTFILE"); ok {
		return f
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".kvorumcli_history")
}

// newLineScanner reads lines of up to 64 KiB, the server's inline limit.
func newLineScanner(r io.Reader) *bufio.Scanner {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 64<<10+2)
	return sc
}
