package resp

// Error codes kvorum adds to Redis's, so a client can tell whether a failed
// write may be retried. They are defined here, with the redirect, because
// both the server (which sends them) and the client (which reads them) use
// this package.
const (
	// CodeTryAgain: the command was not applied; retrying is safe.
	// (Redis Cluster uses TRYAGAIN the same way.)
	CodeTryAgain = "TRYAGAIN"
	// CodeUncertain: a write was cut off in flight (leadership changed); it
	// may or may not have been applied, so a blind retry could apply it twice.
	CodeUncertain = "UNCERTAIN"
	// CodeNoSession: the client session a write named is unknown or has
	// expired; the write was not applied.
	CodeNoSession = "NOSESSION"
)

// Code returns the upper-case code that starts an error value's text
// ("ERR", "MOVED", "UNCERTAIN", ...), or "" for a non-error value.
func (v Value) Code() string {
	if v.kind != KindError {
		return ""
	}
	for i, c := range v.str {
		if c == ' ' {
			return string(v.str[:i])
		}
	}
	return string(v.str)
}
