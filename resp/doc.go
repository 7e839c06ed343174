// Package resp is kvorum's one wire codec and its generic connection server.
//
// It exists so that the server, the smart client, the Raft log and the
// snapshot files all read and write exactly the same bytes through exactly
// the same code. It owns the Value type, the Reader and the encoders, the
// parser limits, the named errors and the redirect error, and a Server that
// accepts connections, pipelines requests into a Handler and writes the
// replies back in order, like net/http or redcon.
//
// resp imports only the standard library. It must not import fsm, cluster,
// cluster/door or raft: it knows bytes and values, never what a command
// means.
//
// # The main flow
//
// Server.Serve accepts a connection and runs two goroutines for it (a Conn).
// The reader parses every request already buffered (Reader.ReadRequest,
// RESP arrays or inline lines), hands each to Handler.Serve, which answers
// at once (Now) or with a Future (Later, Blocked), then waits the futures
// in order and encodes the replies (AppendReply) for the connection's Mode;
// the writer sends them, one write per batch. So a handler can start many
// slow operations (Raft proposals) for one pipelined batch before any
// completes.
//
// # Values and modes
//
// Value holds every kind kvorum speaks: simple string, error, integer,
// bulk string, array, the tutorial's '%' dict, and RESP3 null, boolean and
// double. AppendValue writes every kind as itself (requests, the log,
// snapshots); AppendReply shapes a reply for a connection's Mode: Native
// (the tutorial's replies and '%' dicts), RESP2 (dicts as flat arrays) or
// RESP3 (RESP3 types). A Writer buffers encoded values and Flush sends
// them in one write.
//
// # Reader and limits
//
// Reader checks Limits (bulk 512 MiB, 1,048,576 elements, depth 128,
// inline 64 KiB by default) before it allocates: a declared length only
// bounds how far the buffer may grow as bytes arrive. Small strings and
// element lists are carved out of slabs, so parsing SET key value costs
// less than one allocation on average; the memory is never reused, so
// Values stay valid after later reads. A malformed or over-limit frame is a
// *ProtocolError: the server answers it and closes the connection, which
// cannot be resynchronised. An inline request is split with redis-cli's
// quoting (SplitArgs, inline.go).
//
// # Connections
//
// Replies the client has not read count against Config.OutputLimit (32 MiB
// by default): past it the connection is cut off rather than growing the
// server's memory. While a Blocked future waits, the reader reads ahead on
// the socket, so the end of the client's stream closes Conn.Gone and the
// future can give up at once (conn.go). Conn.Push sends a message outside
// the request/reply order (pub/sub). Conn.Session holds the handler's
// per-connection state; a Handler that is also a ConnCloser hears when a
// connection closes. Server.Close stops accepting, closes every connection
// and waits for every goroutine it started.
//
// # Errors
//
// Each named error is defined once (errors.go, codes.go) with its wire
// text: ErrWrongType, ErrExecAbort, ErrTryAgain and ErrUncertain (kvorum's
// codes: not applied, safe to retry; or may or may not have been applied),
// the timeout errors, and ErrNoLeader. An *Error is a Go error on the
// server and, through Value, the reply that carries it. RedirectError is
// "-MOVED 0 host:port" naming the leader, or "-CLUSTERDOWN no leader"; it
// is built and parsed (ParseRedirect) only here, so server and client agree
// on the text by construction. A client decodes an error reply with
// AsError into a *RedirectError or a *ReplyError, and errors.Is matches
// either against the named errors by code, so no side compares error
// strings.
package resp
