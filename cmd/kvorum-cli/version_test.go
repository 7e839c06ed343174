package main

import (
	"strings"
	"testing"
)

// --version prints the version and exits 0 without
// connecting (cmd/kvorum-server's TestVersion_Stamped checks a stamped
// build of both binaries).
func TestCLI_Version(t *testing.T) {
	out, errOut, code := runCLI(t, "", "-p", "1", "--version")
	ver, ok := strings.CutPrefix(out, "kvorum-cli ")
	if code != 0 || !ok || strings.TrimSpace(ver) == "" || !strings.HasSuffix(ver, "\n") || errOut != "" {
		t.Fatalf("kvorum-cli --version: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}
