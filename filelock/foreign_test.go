package filelock

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseForeign(t *testing.T) {
	for _, tc := range []struct {
		data string
		want ForeignHolder
	}{
		{"", ForeignHolder{Format: FormatEmpty}},
		{" \n", ForeignHolder{Format: FormatEmpty}},
		{"4242", ForeignHolder{Format: FormatPID, PID: 4242}},
		{"4242\n", ForeignHolder{Format: FormatPID, PID: 4242}},
		{"  17 \n", ForeignHolder{Format: FormatPID, PID: 17}},
		{"0\n", ForeignHolder{Format: FormatPID}}, // dotlockfile without -p
		{"4242\nbuild-7\n", ForeignHolder{Format: FormatPIDHost, PID: 4242, Host: "build-7"}},
		{"/var/lock/x.lock|host.example.org|4242|83721", ForeignHolder{Format: FormatFlufl, PID: 4242, Host: "host.example.org"}},
		{"2147483647", ForeignHolder{Format: FormatPID, PID: 1<<31 - 1}}, // the largest PID a record holds
		{"2147483648", ForeignHolder{Format: FormatUnknown}},
		{"9999999999", ForeignHolder{Format: FormatUnknown}},
		{"99999999999", ForeignHolder{Format: FormatUnknown}},
		{"-5", ForeignHolder{Format: FormatUnknown}},
		{"4242\nbuild 7\n", ForeignHolder{Format: FormatUnknown}},
		{"4242\n" + strings.Repeat("h", 255) + "\n", ForeignHolder{Format: FormatPIDHost, PID: 4242, Host: strings.Repeat("h", 255)}}, // the longest host name
		{"4242\n" + strings.Repeat("h", 256) + "\n", ForeignHolder{Format: FormatUnknown}},
		{"4242\nh\nmore\n", ForeignHolder{Format: FormatUnknown}},
		{"a|b|c", ForeignHolder{Format: FormatUnknown}},
		{"/x|host|notapid|1", ForeignHolder{Format: FormatUnknown}},
		{"filelock v1\npid 1\n", ForeignHolder{Format: FormatUnknown}},
	} {
		require.Equal(t, tc.want, parseForeign([]byte(tc.data)), "%q", tc.data)
	}
}

func TestSameHostName(t *testing.T) {
	for _, tc := range []struct {
		recorded, mine string
		same           bool
	}{
		{"", "build-7", true}, // no host stated: the option vouches for it
		{"build-7", "build-7", true},
		{"build-7.example.org", "build-7", true},
		{"build-7", "build-7.example.org", true},
		{"build-8", "build-7", false},
		{"build-8.example.org", "build-7.example.org", false},
	} {
		require.Equal(t, tc.same, sameHostName(tc.recorded, tc.mine), "%q vs %q", tc.recorded, tc.mine)
	}
}

func TestStatusString(t *testing.T) {
	acquired := time.Date(2026, 12, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		st   Status
		want string
	}{
		{Status{}, "free"},
		{Status{Held: true, Holder: &Record{PID: 42, Host: "h", Acquired: acquired}, Age: 1500 * time.Millisecond},
			"held by process 42 on h since 2026-12-02T03:04:05Z, unchanged for 1.5s"},
		{Status{Held: true, Foreign: &ForeignHolder{Format: FormatPID, PID: 7}, Stale: true, StaleReason: "why"},
			"held, by a lock file of another program (pid), pid 7; stale: why"},
		{Status{Held: true, Foreign: &ForeignHolder{Format: FormatEmpty}},
			"held, by a lock file of another program (empty) that states no holder"},
		{Status{Held: true}, "held, by a program that leaves no record"},
	} {
		require.Equal(t, tc.want, tc.st.String())
	}
}
