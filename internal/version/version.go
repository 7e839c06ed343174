package version

import "runtime/debug"

// stamp is set by the linker (-X github.com/kvorum/kvorum/internal/version.stamp=...)
// and never changed at run time; empty in an unstamped build.
var stamp string

// String returns kvorum's version: the stamped one, else one derived from
// the build information the Go toolchain embedded, else "dev". It is safe
// to call from any goroutine.
func String() string {
	if stamp != "" {
		return stamp
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	return fromBuildInfo(bi)
}

// fromBuildInfo derives a version from bi: the main module's version when
// the toolchain knows one (a tagged `go install`, or Go 1.24+'s
// pseudo-versions from VCS), else the first 12 digits of vcs.revision
// (plus "-dirty" when vcs.modified), else "dev".
func fromBuildInfo(bi *debug.BuildInfo) string {
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev string
	var dirty bool
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "dev"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return rev
}
