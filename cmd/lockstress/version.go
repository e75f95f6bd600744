package main

import (
	"fmt"
	"runtime/debug"
	"strings"
)

// version returns the version line of -version, from the build
// information: the module version, the commit it was built from (when the
// build recorded it) and the Go version.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "lockstress (unknown version: built without module information)"
	}
	return versionLine(bi)
}

// versionLine formats the build information as "lockstress VERSION
// (commit REV, TIME[, modified]) GOVERSION".
func versionLine(bi *debug.BuildInfo) string {
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	vcs := map[string]string{}
	for _, s := range bi.Settings {
		vcs[s.Key] = s.Value
	}
	var about []string
	if rev := vcs["vcs.revision"]; rev != "" {
		about = append(about, "commit "+rev[:min(len(rev), 12)])
	}
	if t := vcs["vcs.time"]; t != "" {
		about = append(about, t)
	}
	if vcs["vcs.modified"] == "true" {
		about = append(about, "modified")
	}
	line := "lockstress " + v
	if len(about) > 0 {
		line += " (" + strings.Join(about, ", ") + ")"
	}
	return fmt.Sprintf("%s %s", line, bi.GoVersion)
}
