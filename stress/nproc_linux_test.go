//go:build linux

package stress

import (
	"errors"
	"os"
	"strings"
	"testing"
)

func TestProcessLimitError(t *testing.T) {
	for _, tc := range []struct {
		procs   int
		limit   uint64
		running int
		want    string // "" for no error
	}{
		{10, 100, 50, ""},
		{50, 100, 50, ""},
		{51, 100, 50, "51 worker processes and the 50 tasks this user runs already exceed its limit of 100 (ulimit -u)"},
		{1000, 100, 0, "1000 worker processes and the 0 tasks"},
	} {
		err := processLimitError(tc.procs, tc.limit, tc.running)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("processLimitError(%d, %d, %d) = %v, want nil", tc.procs, tc.limit, tc.running, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrProcessLimit)):
			t.Errorf("processLimitError(%d, %d, %d) = %v, want %q matching ErrProcessLimit", tc.procs, tc.limit, tc.running, err, tc.want)
		}
	}
}

// This process's own tasks are among its user's.
func TestUserTasks(t *testing.T) {
	threads := procStatus(os.Getpid())["Threads"]
	if n := userTasks(os.Getuid()); n < 1 || threads == "" {
		t.Errorf("userTasks = %d, this process's threads %q", n, threads)
	}
	if n := userTasks(-5); n != 0 {
		t.Errorf("userTasks of no user = %d", n)
	}
}
