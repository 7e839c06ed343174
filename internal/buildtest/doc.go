// Package buildtest builds this module's commands for tests that run them as
// child processes: cmd/kvorum-server's and cmd/kvorum-cli's process-level
// tests and the chaos test (test/chaos). Each builds its binary once, in
// TestMain, with the same steps written once here: find the go command, run
// go build from the module root into a fresh temporary directory, and remove
// that directory afterwards.
//
// It is for tests only, and is called from TestMain, before any testing.T
// exists, so it returns errors instead of failing a test. It imports only
// the standard library.
package buildtest
