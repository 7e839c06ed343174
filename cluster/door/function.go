package door

import (
	"strings"

	"github.com/kvorum/kvorum/fsm"
	"github.com/kvorum/kvorum/resp"
)

// kvorum has no scripting yet. FUNCTION answers as a Redis 7 server with
// no functions loaded does, so that tools which clear or list functions
// before they start (Redis's own test suite runs FUNCTION FLUSH first)
// work; loading one is refused.

func cmdFunction(d *Door, c *resp.Conn, args []resp.Value) resp.Value {
	sub := strings.ToUpper(args[1].Text())
	switch {
	case sub == "FLUSH" && len(args) <= 3:
		if len(args) == 3 {
			if mode := strings.ToUpper(args[2].Text()); mode != "SYNC" && mode != "ASYNC" {
				return resp.Err("ERR FUNCTION FLUSH only supports SYNC|ASYNC option")
			}
		}
		return resp.OK() // there is nothing to flush
	case sub == "LIST":
		return functionList(args[2:])
	case sub == "DELETE" && len(args) == 3:
		return resp.Err("ERR Library not found")
	case sub == "LOAD" || sub == "RESTORE":
		return resp.Err("ERR kvorum does not run scripts yet: FUNCTION " + sub + " is not supported")
	case sub == "FLUSH" || sub == "DELETE":
		return fsm.WrongArity("function|" + strings.ToLower(sub))
	}
	return errUnknownSubcommand(args[1], "FUNCTION")
}

// functionList answers FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE]:
// no libraries, after checking the options as Redis does.
func functionList(opts []resp.Value) resp.Value {
	for i := 0; i < len(opts); i++ {
		switch strings.ToUpper(opts[i].Text()) {
		case "WITHCODE":
		case "LIBRARYNAME":
			if i++; i >= len(opts) {
				return resp.Err("ERR library name argument was not given")
			}
		default:
			return resp.Err("ERR Unknown argument " + opts[i].Text())
		}
	}
	return resp.Array()
}
