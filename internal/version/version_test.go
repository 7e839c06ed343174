package version

import (
	"runtime/debug"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	rev := []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "56e6a2a0123456789abcdef0123456789abcdef0"}}
	for _, tc := range []struct {
		name string
		bi   debug.BuildInfo
		want string
	}{
		{"module version", debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}, Settings: rev}, "v1.2.3"},
		{"pseudo-version", debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20250101000000-56e6a2a01234+dirty"}}, "v0.0.0-20250101000000-56e6a2a01234+dirty"},
		{"revision", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: rev}, "56e6a2a01234"},
		{"dirty revision", debug.BuildInfo{Main: debug.Module{Version: "(devel)"},
			Settings: append(rev, debug.BuildSetting{Key: "vcs.modified", Value: "true"})}, "56e6a2a01234-dirty"},
		{"clean revision", debug.BuildInfo{Settings: append(rev, debug.BuildSetting{Key: "vcs.modified", Value: "false"})}, "56e6a2a01234"},
		{"short revision", debug.BuildInfo{Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc"}}}, "abc"},
		{"nothing (go run)", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "dev"},
	} {
		if got := fromBuildInfo(&tc.bi); got != tc.want {
			t.Errorf("%s: fromBuildInfo = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestString_Stamped(t *testing.T) {
	old := stamp
	t.Cleanup(func() { stamp = old })
	stamp = "v9.9.9-1-gabcdef0-dirty"
	if got := String(); got != stamp {
		t.Fatalf("String() with a stamp = %q, want %q", got, stamp)
	}
	stamp = ""
	if got := String(); got == "" {
		t.Fatal("String() without a stamp is empty, want a fallback")
	}
}
