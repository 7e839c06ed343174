package chaos

import (
	"os"
	"testing"

	"github.com/kvorum/kvorum/internal/buildtest"
)

// serverBin is the kvorum-server binary TestMain built.
var serverBin string

// TestMain builds kvorum-server once (internal/buildtest), as
// cmd/kvorum-server's TestMain does (never with -race: a race-enabled
// server is several times slower on a loaded 2-core machine).
// KVORUM_CHAOS_SERVER=path runs a binary built elsewhere instead (another
// revision, or a build with a fault planted on purpose).
func TestMain(m *testing.M) {
	if serverBin = os.Getenv("KVORUM_CHAOS_SERVER"); serverBin != "" {
		os.Exit(m.Run())
	}
	os.Exit(buildtest.Run(m, &serverBin, "./cmd/kvorum-server"))
}
