package main

import (
	"fmt"
	"io"

	"github.com/lockstress/lockstress/stress"
)

// Exit statuses of lockstress. The library reports a verdict; these are
// the command's.
const (
	exitPass         = 0
	exitViolation    = 1
	exitUsage        = 2
	exitError        = 3
	exitInconclusive = 4
	exitInterrupted  = 5
)

// exitStatuses lists the exit statuses with their verdicts and meanings,
// for exitCode and the usage text.
var exitStatuses = []struct {
	code    int
	verdict string // "" for none: nothing ran
	meaning string
}{
	{exitPass, stress.VerdictPass, "no violation, every worker finished, enough critical sections checked"},
	{exitViolation, stress.VerdictFail, "a mutual-exclusion violation was found"},
	{exitUsage, "", "usage or setup error: nothing was tested"},
	{exitError, stress.VerdictError, "a worker crashed or hung, a worker log was unreadable or (verify)\n     missing, a host did not finish, or the lock never recovered from a kill"},
	{exitInconclusive, stress.VerdictInconclusive, "too little was tested: fewer critical sections checked than\n     -min-checked, one worker, every release failed, a mixed member\n     idle, detectors off, or a broken strategy not caught"},
	{exitInterrupted, stress.VerdictInterrupted, "interrupted (SIGINT, SIGTERM, SIGHUP) before the end; a second\n     signal ends lockstress at once"},
}

// exitCode returns the exit status for a verdict; an unknown verdict is
// an error, never a pass.
func exitCode(verdict string) int {
	for _, s := range exitStatuses {
		if s.verdict != "" && s.verdict == verdict {
			return s.code
		}
	}
	return exitError
}

// printExitStatuses writes the exit statuses for the usage text.
func printExitStatuses(w io.Writer) {
	fmt.Fprintf(w, "\nExit status:\n")
	for _, s := range exitStatuses {
		verdict := ""
		if s.verdict != "" {
			verdict = s.verdict + ": "
		}
		fmt.Fprintf(w, "  %d  %s%s\n", s.code, verdict, s.meaning)
	}
}
