package stress

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

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

// maxRunFile bounds what is read of run.json and host.json.
const maxRunFile = 1 << 30

// readRunFile reads the file path of a run directory: a regular file, never
// read through a symbolic link, nor from a directory that is one. The
// directory is shared, and a link there could make verify read any file
// its user may, or wait for ever on a FIFO.
func readRunFile(path string) ([]byte, error) {
	dir := filepath.Dir(path)
	if info, err := os.Lstat(dir); err != nil {
		return nil, err
	} else if !info.IsDir() {
		return nil, &fs.PathError{Op: "read", Path: dir, Err: fmt.Errorf("not a directory (%v)", info.Mode().Type())}
	}
	b, _, err := fsys.ReadAll(fsys.OS{}, path, maxRunFile)
	return b, err
}

func readRunInfo(dir string) (runInfo, error) {
	var info runInfo
	path := filepath.Join(dir, "run.json")
	b, err := readRunFile(path)
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
