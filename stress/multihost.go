package stress

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/lockstress/lockstress/internal/fsys"
)

// A run that several hosts join lives in one directory on the shared
// filesystem:
//
//	DIR/RUN-ID/run.json              what the run tests (written by the first host)
//	DIR/RUN-ID/lock, ledger          the lock under test and the ledger
//	DIR/RUN-ID/hosts/H/host.json     one host's figures (hostData)
//	DIR/RUN-ID/hosts/H/logs/         its workers' logs
//
// Verify merges them into one report.

// runInfo is run.json.
type runInfo struct {
	Schema    string   `json:"schema"`
	Version   int      `json:"version"`
	RunID     string   `json:"run_id"`
	Strategy  Strategy `json:"strategy"`
	Detectors bool     `json:"detectors"`
}

const runInfoSchema = "lockstress-run"

// ErrRunMismatch reports a host that joins a run with another strategy or
// detector setting than the run was started with.
var ErrRunMismatch = errors.New("run directory was started with another configuration")

// joinRun writes run.json, or checks that the existing one matches.
func joinRun(dir, runID string, cfg Config) error {
	path := filepath.Join(dir, "run.json")
	want := runInfo{Schema: runInfoSchema, Version: SchemaVersion, RunID: runID, Strategy: cfg.Strategy, Detectors: !cfg.DetectorsOff}
	b, err := json.MarshalIndent(want, "", "  ")
	if err != nil {
		return err
	}
	tmp := fmt.Sprintf("%s.%s.tmp", path, randomID())
	if err := os.WriteFile(tmp, append(b, '\n'), 0o666); err != nil {
		return err
	}
	err = os.Link(tmp, path)
	rmErr := os.Remove(tmp)
	if lost, _, _ := fsys.LostRace(fsys.OS{}, path, err); !lost {
		return errors.Join(err, rmErr)
	}
	got, err := readRunInfo(dir)
	if err != nil {
		return err
	}
	if got.Strategy != want.Strategy || got.Detectors != want.Detectors {
		return &fs.PathError{Op: "join", Path: path, Err: fmt.Errorf("%w: strategy %v, detectors %v; this host asked for strategy %v, detectors %v",
			ErrRunMismatch, got.Strategy, got.Detectors, want.Strategy, want.Detectors)}
	}
	return nil
}

func readRunInfo(dir string) (runInfo, error) {
	var info runInfo
	path := filepath.Join(dir, "run.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return info, err
	}
	if err := json.Unmarshal(b, &info); err != nil {
		return info, &fs.PathError{Op: "read", Path: path, Err: err}
	}
	if info.Schema != runInfoSchema || info.Version != SchemaVersion {
		return info, &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("not a lockstress run (schema %q version %d)", info.Schema, info.Version)}
	}
	return info, nil
}

// saveHost writes this host's figures and copies its logs into its
// directory of the shared run.
func (r *runner) saveHost(hd *hostData) error {
	logs := filepath.Join(r.hostDir, "logs")
	if err := os.MkdirAll(logs, 0o777); err != nil {
		return err
	}
	entries, err := os.ReadDir(r.logDir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := copyFile(filepath.Join(r.logDir, e.Name()), filepath.Join(logs, e.Name())); err != nil {
			return err
		}
	}
	b, err := json.MarshalIndent(hd, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(r.hostDir, "host.json"), append(b, '\n'), 0o666)
}

func copyFile(from, to string) (err error) {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, out.Close()) }()
	_, err = io.Copy(out, in)
	return err
}

// ErrNoHosts reports a run directory that no host has finished in.
var ErrNoHosts = errors.New("no host has finished in this run directory")

// Verify merges the logs and figures of every host that joined the run in
// dir (a directory Config.Join made: Config.Dir/Config.RunID) into one
// report. The ledger detector covers all hosts together; the interval
// detector each host apart; occupancy is as each host counted it.
func Verify(dir string, maxExamples int) (*Report, error) {
	if maxExamples <= 0 {
		maxExamples = DefaultMaxExamples
	}
	info, err := readRunInfo(dir)
	if err != nil {
		return nil, err
	}
	paths, err := filepath.Glob(filepath.Join(dir, "hosts", "*", "host.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	if len(paths) == 0 {
		return nil, &fs.PathError{Op: "verify", Path: dir, Err: ErrNoHosts}
	}
	var hosts []*hostData
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		hd := &hostData{}
		if err := json.Unmarshal(b, hd); err != nil {
			return nil, &fs.PathError{Op: "read", Path: p, Err: err}
		}
		if hd.Strategy != info.Strategy {
			return nil, &fs.PathError{Op: "verify", Path: p, Err: fmt.Errorf("%w: host ran strategy %v, the run is %v", ErrRunMismatch, hd.Strategy, info.Strategy)}
		}
		hd.logDir = filepath.Join(filepath.Dir(p), "logs")
		hosts = append(hosts, hd)
	}
	rep, err := assemble(hosts, maxExamples, false)
	if err != nil {
		return nil, err
	}
	// A host knows of a recovery only by its own workers: the lock may
	// have gone to another host's at once.
	rep.Faults.NeverRecovered = 0
	unfinished, err := unfinishedHosts(dir)
	if err != nil {
		return nil, err
	}
	if len(unfinished) > 0 {
		for _, h := range unfinished {
			rep.Failures = append(rep.Failures, Failure{Worker: "host " + h,
				Reason: "joined the run but wrote no host.json: it did not finish (killed, or still running)"})
		}
		rep.judge()
	}
	return rep, nil
}

// unfinishedHosts returns the hosts of the run in dir that joined it (made
// their directory) but wrote no host.json.
func unfinishedHosts(dir string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(dir, "hosts"))
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if _, err := os.Lstat(filepath.Join(dir, "hosts", e.Name(), "host.json")); e.IsDir() && errors.Is(err, fs.ErrNotExist) {
			names = append(names, e.Name())
		}
	}
	return names, nil
}
