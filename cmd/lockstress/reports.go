package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/lockstress/lockstress/stress"
)

var (
	// errNotReport marks a file that is not a lockstress JSON report of a
	// version this lockstress reads.
	errNotReport = errors.New("not a lockstress JSON report")
	// errNothingInCommon marks sides that share no strategy.
	errNothingInCommon = errors.New("the sides have no strategy in common")
)

// side is the reports of one side of a comparison, by strategy.
type side struct {
	byStrategy map[string][]*stress.Report
	order      []string // strategies as they first appear
}

// readSide reads the reports of one side.
func readSide(paths []string) (*side, error) {
	s := &side{byStrategy: map[string][]*stress.Report{}}
	for _, p := range paths {
		doc, err := readReport(p)
		if err != nil {
			return nil, err
		}
		for _, rep := range doc.Runs {
			if _, ok := s.byStrategy[rep.Strategy]; !ok {
				s.order = append(s.order, rep.Strategy)
			}
			s.byStrategy[rep.Strategy] = append(s.byStrategy[rep.Strategy], rep)
		}
	}
	return s, nil
}

// readReport reads one JSON report written by -json.
func readReport(path string) (*stress.Document, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc stress.Document
	switch err := json.Unmarshal(b, &doc); {
	case err != nil:
		return nil, &fs.PathError{Op: "read report", Path: path, Err: fmt.Errorf("%w: %w", errNotReport, err)}
	case doc.Schema != stress.SchemaName:
		return nil, &fs.PathError{Op: "read report", Path: path, Err: fmt.Errorf("%w: schema %q, want %q", errNotReport, doc.Schema, stress.SchemaName)}
	case doc.Version > stress.SchemaVersion:
		return nil, &fs.PathError{Op: "read report", Path: path, Err: fmt.Errorf("%w: version %d is newer than this lockstress reads (%d)", errNotReport, doc.Version, stress.SchemaVersion)}
	case len(doc.Runs) == 0:
		return nil, &fs.PathError{Op: "read report", Path: path, Err: fmt.Errorf("%w: it has no runs", errNotReport)}
	}
	return &doc, nil
}

// pairSides reads both sides and pairs their reports by strategy; with one
// strategy a side, those two are paired whatever their names. It returns
// the pairs and what could not be paired.
func pairSides(oldPaths, newPaths []string) ([]comparison, []string, error) {
	old, err := readSide(oldPaths)
	if err != nil {
		return nil, nil, err
	}
	nw, err := readSide(newPaths)
	if err != nil {
		return nil, nil, err
	}
	if len(old.order) == 1 && len(nw.order) == 1 {
		o, n := old.order[0], nw.order[0]
		title := o
		if o != n {
			title = o + " → " + n
		}
		return []comparison{{title: title, old: old.byStrategy[o], new: nw.byStrategy[n]}}, nil, nil
	}
	var comps []comparison
	var skipped []string
	for _, s := range old.order {
		if reps, ok := nw.byStrategy[s]; ok {
			comps = append(comps, comparison{title: s, old: old.byStrategy[s], new: reps})
		} else {
			skipped = append(skipped, s+" (old side only)")
		}
	}
	for _, s := range nw.order {
		if !slices.Contains(old.order, s) {
			skipped = append(skipped, s+" (new side only)")
		}
	}
	if len(comps) == 0 {
		return nil, nil, fmt.Errorf("%w: old has %s, new has %s", errNothingInCommon, strings.Join(old.order, ", "), strings.Join(nw.order, ", "))
	}
	return comps, skipped, nil
}
