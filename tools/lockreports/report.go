package main

import (
	"encoding/json"
	"fmt"
	"os"
)

// document is the part of a lockstress JSON report (schema
// "lockstress-report", version 1, see docs/lockstress.md) that this tool
// reads.
type document struct {
	Schema   string      `json:"schema"`
	Version  int         `json:"version"`
	Verdict  string      `json:"verdict"`
	ExitCode int         `json:"exit_code"`
	Runs     []runReport `json:"runs"`
}

type runReport struct {
	Strategy   string `json:"strategy"`
	Filesystem struct {
		Type string `json:"type"`
	} `json:"filesystem"`
	ElapsedNs      int64 `json:"elapsed_ns"`
	Acquisitions   int64 `json:"acquisitions"`
	AcquireLatency struct {
		P99Ns int64 `json:"p99_ns"`
		MaxNs int64 `json:"max_ns"`
	} `json:"acquire_latency"`
	Errors map[string]struct {
		Count int64 `json:"count"`
	} `json:"errors"`
	Faults struct {
		Kills int `json:"kills"`
		Stops int `json:"stops"`
	} `json:"faults"`
	Violations int64      `json:"violations"`
	Failures   []struct{} `json:"failures"`
	Verdict    string     `json:"verdict"`
}

// errorCount returns the errors of a run, all kinds together.
func (r runReport) errorCount() int64 {
	var n int64
	for _, e := range r.Errors {
		n += e.Count
	}
	return n
}

// readDocument reads one report.
func readDocument(path string) (*document, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var d document
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("%s: not a lockstress report: %w", path, err)
	}
	if d.Schema != "lockstress-report" || d.Version != 1 {
		return nil, fmt.Errorf("%s: schema %q version %d, want lockstress-report version 1", path, d.Schema, d.Version)
	}
	return &d, nil
}
