package detect

import "testing"

// TestVerifyHostLedger: one host's logs of a shared run take a worker
// that found the ledger held by another host's holder for a takeover when
// that host killed it, and for a violation when not, as the logs of both
// hosts do; without what the other host killed, the takeover would be a
// violation.
func TestVerifyHostLedger(t *testing.T) {
	held := Entry{Seq: 3, Nonce: 77, Acquired: 30, Released: 35, Flags: FlagHeld, Seen: 1002}
	hostA := []logSpec{{host: "a", owner: "a/w0", entries: seqs(1)}, {host: "a", owner: "a/w1", entries: []Entry{held}}}
	for _, tc := range []struct {
		name      string
		hostB     Entry // the holder found
		elsewhere map[uint64]bool
		violation bool
	}{
		{"killed on the other host", Entry{Seq: 2, Nonce: 1002, Flags: FlagKilled}, map[uint64]bool{1002: true}, false},
		{"live on the other host", Entry{Seq: 2, Nonce: 1002}, map[uint64]bool{4242: true}, true},
		{"no kills elsewhere", Entry{Seq: 2, Nonce: 1002}, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			host, err := VerifyHostLedger(writeLogs(t, hostA...), nil, 10, tc.elsewhere)
			if err != nil {
				t.Fatal(err)
			}
			whole, err := VerifyLedger(writeLogs(t, append(append([]logSpec{}, hostA...), logSpec{host: "b", owner: "b/w0", entries: []Entry{tc.hostB}})...), nil, 10)
			if err != nil {
				t.Fatal(err)
			}
			for name, res := range map[string]*LedgerResult{"host a": host, "both hosts": whole} {
				if got := res.Violations.ByKind[KindHeld] == 1 && res.Violations.Count == 1 && res.Takeovers == 0; got != tc.violation {
					t.Errorf("%s: violations %v, takeovers %d; want an entered-held violation: %v", name, res.Violations.ByKind, res.Takeovers, tc.violation)
				}
				if !tc.violation && (res.Takeovers != 1 || res.Violations.Count != 0) {
					t.Errorf("%s: violations %v, takeovers %d; want one takeover", name, res.Violations.ByKind, res.Takeovers)
				}
			}
		})
	}
	t.Run("without the other host's kills", func(t *testing.T) {
		res, err := VerifyLedger(writeLogs(t, hostA...), nil, 10)
		if err != nil {
			t.Fatal(err)
		}
		if res.Violations.ByKind[KindHeld] != 1 {
			t.Errorf("violations %v: the other host's kill unknown, the takeover is a violation", res.Violations.ByKind)
		}
	})
}
