package stress

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Verify's judgement of a shared run: the hosts' figures and logs merged,
// and the hosts that did not finish, or whose workers' logs are missing,
// named as failures.

// ErrNoHosts reports a run directory that no host has finished in.
var ErrNoHosts = errors.New("no host has finished in this run directory")

// ErrHostsUnfinished is part of an ErrNoHosts error where hosts joined the
// run and none of them finished (killed, or still running): what they
// tested cannot be verified.
var ErrHostsUnfinished = errors.New("hosts joined the run and wrote no host.json")

// Verify merges the logs and figures of every host that joined the run in
// dir (a directory Config.Join made: Config.Dir/Config.RunID) into one
// report. The ledger detector covers all hosts together; the interval
// detector each host apart; occupancy is as each host counted it.
func Verify(dir string, maxExamples int) (*Report, error) {
	if maxExamples <= 0 {
		maxExamples = DefaultMaxExamples
	}
	hosts, err := readHosts(dir)
	if err != nil {
		return nil, err
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
	var unlogged []Failure
	if rep.Detectors.Enabled { // with them off, no worker writes a log
		unlogged = unloggedWorkers(hosts)
	}
	for _, h := range unfinished {
		rep.Failures = append(rep.Failures, Failure{Worker: "host " + h,
			Reason: "joined the run but wrote no host.json: it did not finish (killed, or still running)"})
	}
	rep.Failures = append(rep.Failures, unlogged...)
	if len(unfinished)+len(unlogged) > 0 {
		rep.judge()
	}
	return rep, nil
}

// readHosts reads the figures of every host that finished in the run in
// dir, checking that each ran the run's strategy.
func readHosts(dir string) ([]*hostData, error) {
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
		if unfinished, _ := unfinishedHosts(dir); len(unfinished) > 0 {
			return nil, &fs.PathError{Op: "verify", Path: dir, Err: fmt.Errorf("%w: %w: %s",
				ErrNoHosts, ErrHostsUnfinished, strings.Join(unfinished, ", "))}
		}
		return nil, &fs.PathError{Op: "verify", Path: dir, Err: ErrNoHosts}
	}
	var hosts []*hostData
	for _, p := range paths {
		b, err := readRunFile(p)
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
	return hosts, nil
}

// unloggedWorkers returns a failure for each worker that acquired the lock
// by its host's figures but has no log among those the detectors read in
// the run directory (removed, or never copied there): the detectors could not check its critical
// sections, so the run cannot pass, nor be merely inconclusive.
func unloggedWorkers(hosts []*hostData) []Failure {
	var fails []Failure
	for _, h := range hosts {
		logged := map[int]bool{}
		for _, l := range h.logs {
			logged[l.Header.Worker] = true
		}
		for _, w := range h.Workers {
			if id, ok := workerID(w.Name); w.Acquisitions > 0 && (!ok || !logged[id]) {
				fails = append(fails, Failure{Worker: w.Name, Reason: fmt.Sprintf(
					"acquired the lock %d times, and no log of it is in %s: its critical sections went unchecked", w.Acquisitions, h.logDir)})
			}
		}
	}
	return fails
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

// workerID returns the number of the worker named name ("w3", or
// "HOST/w3" in a shared run).
func workerID(name string) (int, bool) {
	n, ok := strings.CutPrefix(name[strings.LastIndexByte(name, '/')+1:], "w")
	id, err := strconv.Atoi(n)
	return id, ok && err == nil && id >= 0
}
