// Command kvorum-cli is kvorum's command-line client, with redis-cli's
// habits:
//
//	kvorum-cli [-h host] [-p port] [--raw|--no-raw] [-2|-3] [command [arg ...]]
//	kvorum-cli --version
//
// With a command it sends it, prints the reply and exits (1 on an error
// reply or failure). Without one it reads commands from standard input
// line by line when that is not a terminal, and otherwise runs an
// interactive prompt with line editing and history (KVORUMCLI_HISTFILE,
// default ~/.kvorumcli_history; empty for none). Replies print as redis-cli
// prints them: formatted for a terminal, raw (--raw) when standard output
// is not one. Redirects to the leader are followed and reported
// ("-> Redirected to leader host:port"). Typed lines may hold nested
// values as literals, e.g. MSET k2 ['v2-0', 1, 'v2-2'] (see parseLine).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"

	"github.com/chzyer/readline"
	"github.com/kvorum/kvorum/client"
	"github.com/kvorum/kvorum/internal/version"
	"github.com/kvorum/kvorum/resp"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

// config is what the flags say.
type config struct {
	host      string
	port      int
	raw       bool
	noRaw     bool
	resp2     bool
	resp3     bool
	version   bool   // --version: print it and exit
	backup    string // --backup FILE: write the cluster's backup to FILE and exit
	restore   string // --restore FILE: restore the cluster from FILE and exit
	force     bool   // --force: let --restore replace the keys the cluster holds
	user      string
	password  string // -a, or REDISCLI_AUTH as redis-cli reads it
	args      []string
	outputTTY bool // stdout is a terminal
	inputTTY  bool // stdin is a terminal
}

func parseFlags(argv []string, stderr io.Writer) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("kvorum-cli", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.host, "h", "127.0.0.1", "server host")
	fs.IntVar(&cfg.port, "p", 31337, "server port")
	fs.BoolVar(&cfg.raw, "raw", false, "print replies raw, even to a terminal")
	fs.BoolVar(&cfg.noRaw, "no-raw", false, "print replies formatted, even to a pipe")
	fs.BoolVar(&cfg.resp2, "2", false, "switch the connection to RESP2 (HELLO 2)")
	fs.BoolVar(&cfg.resp3, "3", false, "switch the connection to RESP3 (HELLO 3)")
	fs.Bool("c", true, "follow redirects (always on; accepted for redis-cli habits)")
	fs.StringVar(&cfg.password, "a", "", "password to AUTH with (or $REDISCLI_AUTH, which keeps it out of ps)")
	fs.StringVar(&cfg.user, "user", "", "ACL user to AUTH as (with -a)")
	fs.BoolVar(&cfg.version, "version", false, "print the version and exit")
	fs.StringVar(&cfg.backup, "backup", "", "write a consistent backup of the whole cluster, taken on its leader, to `FILE` and exit")
	fs.StringVar(&cfg.restore, "restore", "", "replace the whole cluster's state with the backup in `FILE` and exit (into an empty cluster; --force to replace existing keys)")
	fs.BoolVar(&cfg.force, "force", false, "with --restore: replace the keys the cluster holds")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kvorum-cli [-h host] [-p port] [-a password [--user name]] [--raw|--no-raw] [-2|-3] [command [arg ...]]")
		fmt.Fprintln(stderr, "       kvorum-cli [-h host] [-p port] [-a password] --backup FILE | --restore FILE [--force]")
		fmt.Fprintln(stderr, "       kvorum-cli --version")
		fs.PrintDefaults()
	}
	if err := fs.Parse(argv); err != nil {
		return cfg, err
	}
	cfg.args = fs.Args()
	if cfg.password == "" {
		cfg.password = os.Getenv("REDISCLI_AUTH")
	}
	return cfg, nil
}

func run(argv []string) int {
	cfg, err := parseFlags(argv, os.Stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if cfg.version {
		fmt.Println("kvorum-cli", version.String())
		return 0
	}
	cfg.outputTTY = readline.IsTerminal(int(os.Stdout.Fd()))
	cfg.inputTTY = readline.IsTerminal(int(os.Stdin.Fd()))
	s := &session{
		addr:        net.JoinHostPort(cfg.host, strconv.Itoa(cfg.port)),
		out:         os.Stdout,
		errw:        os.Stderr,
		raw:         cfg.raw || !cfg.outputTTY && !cfg.noRaw,
		interactive: len(cfg.args) == 0 && cfg.inputTTY,
	}
	opt := client.Options{
		Addrs:      []string{s.addr},
		PoolSize:   1,
		MaxRetries: 10,
		OnRedirect: s.redirected,
		Username:   cfg.user,
		Password:   cfg.password,
	}
	if cfg.backup != "" || cfg.restore != "" {
		// A backup is the whole state in one reply, and a restore waits
		// for the state to be installed: no per-round-trip limit (^C ends
		// them).
		opt.ReadTimeout, opt.WriteTimeout = -1, -1
	}
	switch {
	case cfg.resp3:
		opt.Protocol = resp.RESP3
	case cfg.resp2:
		opt.Protocol = resp.RESP2
	}
	if s.c, err = client.New(opt); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer s.c.Close()

	switch {
	case cfg.backup != "" || cfg.restore != "":
		return s.transfer(cfg)
	case len(cfg.args) > 0:
		args := make([]resp.Value, len(cfg.args))
		for i, a := range cfg.args {
			args[i] = resp.BulkString(a)
		}
		if !s.exec(args) {
			return 1
		}
		return 0
	case s.interactive:
		return s.repl()
	default:
		return s.script(os.Stdin)
	}
}

// session is one run of the CLI: a client and where replies go. Its
// methods run on the main goroutine.
type session struct {
	c           *client.Client
	addr        string // the address given by -h and -p
	out, errw   io.Writer
	raw         bool
	interactive bool
}

// redirected reports a redirect as redis-cli -c does: on stdout at the
// prompt, on stderr otherwise (so piped output stays clean).
func (s *session) redirected(_, to string) {
	w := s.errw
	if s.interactive {
		w = s.out
	}
	fmt.Fprintf(w, "-> Redirected to leader %s\n", to)
}

// transfer runs --backup or --restore and reports it, as redis-cli
// reports --rdb.
func (s *session) transfer(cfg config) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var (
		n    int
		err  error
		done string
	)
	if cfg.backup != "" {
		n, err = backupTo(ctx, s.c, cfg.backup)
		done = "Backup written to " + cfg.backup
	} else {
		n, err = restoreFrom(ctx, s.c, cfg.restore, cfg.force)
		done = "Cluster restored from " + cfg.restore
	}
	if err != nil {
		fmt.Fprintf(s.errw, "Error: %v\n", err)
		return 1
	}
	fmt.Fprintf(s.errw, "%s (%d bytes)\n", done, n)
	return 0
}

// exec sends one command and prints its reply; a Ctrl-C cancels it. It
// reports false for an error reply or a failure.
func (s *session) exec(args []resp.Value) bool {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	cmd := make([]any, len(args))
	for i, a := range args {
		cmd[i] = a
	}
	v, err := s.c.Do(ctx, cmd...)
	var re *resp.ReplyError
	if err != nil && !errors.As(err, &re) {
		fmt.Fprintf(s.errw, "Error: %v\n", err)
		return false
	}
	if s.raw {
		io.WriteString(s.out, formatRaw(v))
	} else {
		io.WriteString(s.out, formatTTY(v))
	}
	return err == nil
}

// script runs the commands of r, one per line, and reports failure (1) if
// any line failed.
func (s *session) script(r io.Reader) int {
	code := 0
	sc := newLineScanner(r)
	for sc.Scan() {
		if !s.line(sc.Text()) {
			code = 1
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintf(s.errw, "Error: reading standard input: %v\n", err)
		return 1
	}
	return code
}

// line parses and runs one typed line; blank lines succeed.
func (s *session) line(text string) bool {
	args, err := parseLine(text)
	if err != nil {
		fmt.Fprintf(s.errw, "Error: %v\n", err)
		return false
	}
	if len(args) == 0 {
		return true
	}
	return s.exec(args)
}
