//go:build linux

package main

import (
	"regexp"
	"runtime/debug"
	"testing"
)

func TestVersionLine(t *testing.T) {
	for _, tc := range []struct {
		name string
		bi   debug.BuildInfo
		want string
	}{
		{"release", debug.BuildInfo{GoVersion: "go1.25.1", Main: debug.Module{Version: "v1.2.3"}}, "lockstress v1.2.3 go1.25.1"},
		{"no version", debug.BuildInfo{GoVersion: "go1.25.1"}, "lockstress (devel) go1.25.1"},
		{"from a checkout", debug.BuildInfo{GoVersion: "go1.25.1", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "e164d12a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e"}, {Key: "vcs.time", Value: "2026-12-02T02:00:00Z"}, {Key: "vcs.modified", Value: "true"},
		}}, "lockstress (devel) (commit e164d12a0b1c, 2026-12-02T02:00:00Z, modified) go1.25.1"},
		{"short revision", debug.BuildInfo{GoVersion: "go1.25.1", Main: debug.Module{Version: "v0.1.0"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.modified", Value: "false"},
		}}, "lockstress v0.1.0 (commit abc) go1.25.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := versionLine(&tc.bi); got != tc.want {
				t.Errorf("versionLine = %q, want %q", got, tc.want)
			}
		})
	}
}

// -version prints the version of this binary and nothing else.
func TestVersionFlag(t *testing.T) {
	code, stdout, stderr := lockstress(t, "-version")
	if code != exitPass || stderr != "" || stdout != version()+"\n" {
		t.Errorf("exit code %d, stdout %q, stderr %q; want 0, %q, none", code, stdout, stderr, version()+"\n")
	}
	if !regexp.MustCompile(`^lockstress \S+ .*go1\.\d+`).MatchString(stdout) {
		t.Errorf("-version printed %q, want lockstress VERSION ... GOVERSION", stdout)
	}
}
