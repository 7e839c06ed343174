package door

import (
	"bufio"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	"github.com/kvorum/kvorum/fsm"
	"github.com/kvorum/kvorum/resp"
)

// Users are the ACL users a door authenticates, in a small, exact subset
// of Redis's ACL file syntax, one user per line:
//
//	user <name> [on|off] [nopass|>password|#<sha256 hex>]... [allkeys|~pattern]...
//	     [allcommands|nocommands|+@category|-@category|+command|-command]...
//
// Command rules apply in order, as in Redis; a user starts with no
// commands, no keys and no password. Categories come from the registry:
// read, write, blocking, pubsub, transaction, connection, admin and
// dangerous (ACL CAT lists them, ACL CAT <category> their commands).
// "default" is the user a new connection is, authenticated already if it
// is on and nopass: without a users file it is on, nopass, every command,
// every key, unless a password is required (Config.RequirePass).
type Users struct {
	byName map[string]*userSpec
}

// userSpec is one parsed user line; resolved against a registry by New.
type userSpec struct {
	name    string
	on      bool
	nopass  bool
	hashes  [][sha256.Size]byte
	allKeys bool
	keys    []string
	rules   []string // command rules in order: +@cat, -@cat, +cmd, -cmd
}

// Category is an ACL command category.
type Category uint16

// The categories, a small subset of Redis's with the same names.
const (
	CatRead Category = 1 << iota
	CatWrite
	CatBlocking
	CatPubsub
	CatTransaction
	CatConnection
	CatAdmin
	CatDangerous
)

var categoryNames = []struct {
	name string
	cat  Category
}{
	{"read", CatRead}, {"write", CatWrite}, {"blocking", CatBlocking}, {"pubsub", CatPubsub},
	{"transaction", CatTransaction}, {"connection", CatConnection}, {"admin", CatAdmin}, {"dangerous", CatDangerous},
}

func categoryNamed(name string) (Category, bool) {
	for _, c := range categoryNames {
		if c.name == strings.ToLower(name) {
			return c.cat, true
		}
	}
	return 0, false
}

// dataCategories are a data command's categories, from its fsm flags.
func dataCategories(dc *fsm.Command) Category {
	var c Category
	switch {
	case dc.IsBlocking():
		c = CatWrite | CatBlocking
	case dc.IsWrite():
		c = CatWrite
	default:
		c = CatRead
	}
	if dc.IsDangerous() {
		c |= CatDangerous
	}
	return c
}

// ParseUsers parses a users file (see Users). requirepass, if set, is the
// default user's password; it may not be combined with a file that
// defines the default user.
func ParseUsers(text, requirepass string) (*Users, error) {
	u := &Users{byName: map[string]*userSpec{}}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		spec, err := parseUser(line)
		if err != nil {
			return nil, fmt.Errorf("users file line %d: %w", n, err)
		}
		if _, dup := u.byName[spec.name]; dup {
			return nil, fmt.Errorf("users file line %d: user %q defined twice", n, spec.name)
		}
		u.byName[spec.name] = spec
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("users file: %w", err)
	}
	if err := u.checkCommands(); err != nil {
		return nil, err
	}
	if _, ok := u.byName["default"]; ok && requirepass != "" {
		return nil, fmt.Errorf("requirepass and a users file that defines the default user: give its password in the file")
	}
	if _, ok := u.byName["default"]; !ok {
		def := &userSpec{name: "default", on: true, nopass: requirepass == "", allKeys: true, rules: []string{"+@all"}}
		if requirepass != "" {
			def.hashes = [][sha256.Size]byte{sha256.Sum256([]byte(requirepass))}
		}
		u.byName["default"] = def
	}
	return u, nil
}

// DefaultOpen reports whether the default user needs no password: a new
// connection is then served without AUTH (and protected mode applies).
func (u *Users) DefaultOpen() bool {
	def := u.byName["default"]
	return def.on && def.nopass
}

// parseUser parses one "user ..." line.
func parseUser(line string) (*userSpec, error) {
	f := strings.Fields(line)
	if len(f) < 2 || f[0] != "user" {
		return nil, fmt.Errorf("want \"user <name> rules...\", got %q", line)
	}
	s := &userSpec{name: f[1]}
	for _, r := range f[2:] {
		switch {
		case r == "on" || r == "off":
			s.on = r == "on"
		case r == "nopass":
			s.nopass, s.hashes = true, nil
		case strings.HasPrefix(r, ">"):
			s.nopass = false
			s.hashes = append(s.hashes, sha256.Sum256([]byte(r[1:])))
		case strings.HasPrefix(r, "#"):
			b, err := hex.DecodeString(r[1:])
			if err != nil || len(b) != sha256.Size {
				return nil, fmt.Errorf("user %s: %q is not # and a SHA-256 in hex", s.name, r)
			}
			s.nopass = false
			s.hashes = append(s.hashes, [sha256.Size]byte(b))
		case r == "allkeys" || r == "~*":
			s.allKeys = true
		case strings.HasPrefix(r, "~"):
			s.keys = append(s.keys, r[1:])
		case r == "allcommands":
			s.rules = append(s.rules, "+@all")
		case r == "nocommands":
			s.rules = append(s.rules, "-@all")
		case strings.HasPrefix(r, "+@") || strings.HasPrefix(r, "-@"):
			if _, ok := categoryNamed(r[2:]); !ok && r[2:] != "all" {
				return nil, fmt.Errorf("user %s: unknown category %q (ACL CAT lists them)", s.name, r[2:])
			}
			s.rules = append(s.rules, strings.ToLower(r))
		case strings.HasPrefix(r, "+") || strings.HasPrefix(r, "-"):
			s.rules = append(s.rules, r[:1]+strings.ToUpper(r[1:]))
		default:
			return nil, fmt.Errorf("user %s: unknown rule %q", s.name, r)
		}
	}
	return s, nil
}

// user is a resolved ACL user: what it may run, on which keys.
type user struct {
	name    string
	on      bool
	nopass  bool
	hashes  [][sha256.Size]byte
	allowed map[string]bool // command name -> allowed
	// everything: every command on every key, so checks can be skipped.
	everything bool
	allKeys    bool
	keys       []string
	rules      []string // the command rules as written, for ACL LIST
}

// resolve applies the users' command rules to the registry's commands
// (ParseUsers checked every name they use) and returns them by name, and
// their names sorted.
func (u *Users) resolve(reg *Registry) (map[string]*user, []string) {
	out := make(map[string]*user, len(u.byName))
	var names []string
	for name, s := range u.byName {
		r := &user{name: name, on: s.on, nopass: s.nopass, hashes: s.hashes, allowed: map[string]bool{},
			allKeys: s.allKeys, keys: s.keys, rules: s.rules}
		for _, rule := range s.rules {
			allow := rule[0] == '+'
			if strings.HasPrefix(rule[1:], "@") {
				cat, _ := categoryNamed(rule[2:])
				for _, cmd := range reg.rows {
					if rule[2:] == "all" || cmd.Cats&cat != 0 {
						r.allowed[cmd.Name] = allow
					}
				}
				continue
			}
			r.allowed[rule[1:]] = allow
		}
		r.everything = r.allKeys
		for _, cmd := range reg.rows {
			r.everything = r.everything && r.allowed[cmd.Name]
		}
		out[name] = r
		names = append(names, name)
	}
	sort.Strings(names)
	return out, names
}

// check says whether password opens u, in constant time over the hashes.
func (u *user) check(password []byte) bool {
	if !u.on {
		return false
	}
	if u.nopass {
		return true
	}
	h := sha256.Sum256(password)
	ok := 0
	for _, want := range u.hashes {
		ok |= subtle.ConstantTimeCompare(h[:], want[:])
	}
	return ok == 1
}

// permit returns the NOPERM error if u may not run cmd with args, or a
// zero Value.
func (u *user) permit(cmd *Command, args []resp.Value) (resp.Value, bool) {
	if !u.allowed[cmd.Name] {
		name := strings.ToLower(cmd.Name)
		if containers[cmd.Name] && len(args) > 1 {
			name += "|" + strings.ToLower(args[1].Text()) // Redis names the subcommand
		}
		return resp.Err("NOPERM this user has no permissions to run the '" + name + "' command"), false
	}
	if u.allKeys {
		return resp.Value{}, true
	}
	if cmd.Data != nil && cmd.Data.HiddenKeys != nil {
		if refusal := cmd.Data.HiddenKeys(args); refusal != "" {
			return resp.Err("ERR " + refusal), false
		}
	}
	if cmd.FirstKey == 0 {
		return resp.Value{}, true
	}
	keys := cmd.keys(args)
	for _, k := range keys {
		if !u.keyAllowed(k.TextBytes()) {
			return resp.Err("NOPERM this user has no permissions to access one of the keys used as arguments"), false
		}
	}
	return resp.Value{}, true
}

// containers are the commands Redis checks by subcommand (ACL WHOAMI is
// acl|whoami); kvorum checks the command, and names the subcommand in the
// refusal as Redis does.
var containers = map[string]bool{"ACL": true, "CLIENT": true, "CLUSTER": true, "COMMAND": true, "SENTINEL": true}

func (u *user) keyAllowed(key []byte) bool {
	for _, p := range u.keys {
		if fsm.Glob([]byte(p), key) {
			return true
		}
	}
	return false
}

// describe is the user's ACL LIST line: its rules as resolved, passwords
// as their hashes.
func (u *user) describe() string {
	parts := []string{"user", u.name}
	if u.on {
		parts = append(parts, "on")
	} else {
		parts = append(parts, "off")
	}
	if u.nopass {
		parts = append(parts, "nopass")
	}
	for _, h := range u.hashes {
		parts = append(parts, "#"+hex.EncodeToString(h[:]))
	}
	if u.allKeys {
		parts = append(parts, "~*")
	}
	for _, k := range u.keys {
		parts = append(parts, "~"+k)
	}
	rules := u.rules
	if len(rules) == 0 {
		rules = []string{"-@all"}
	}
	for _, r := range rules {
		parts = append(parts, strings.ToLower(r))
	}
	return strings.Join(parts, " ")
}

// checkCommands refuses a rule naming a command kvorum does not have.
func (u *Users) checkCommands() error {
	reg, err := NewRegistry(fsm.NewTable(), families()...)
	if err != nil {
		return err
	}
	for _, s := range u.byName {
		for _, rule := range s.rules {
			if !strings.HasPrefix(rule[1:], "@") && reg.Lookup([]byte(rule[1:])) == nil {
				return fmt.Errorf("user %s: unknown command %q", s.name, strings.ToLower(rule[1:]))
			}
		}
	}
	return nil
}
