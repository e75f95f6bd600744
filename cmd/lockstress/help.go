package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

const examples = `
Examples:
  lockstress -procs 64 -dur 60s -dir /mnt/nfs/scratch
  lockstress -strategy all -hold uniform:0-2ms -json report.json
  lockstress -strategy os -kill-rate 2 -dur 30s
  lockstress help verify
`

const seeDocs = "\nSee docs/lockstress.md for the output, the JSON schema and the detectors.\n"

// flagArgs names the argument of each flag in the usage text.
var flagArgs = map[string]string{
	"procs": "N", "dur": "DURATION", "warmup": "DURATION", "dir": "DIR", "strategy": "NAME", "hold": "DIST", "think": "DIST",
	"timeout": "DURATION", "seed": "N", "json": "FILE", "kill-rate": "RATE", "stop": "DURATION", "stale-after": "DURATION",
	"stop-rate": "RATE", "grace": "DURATION", "examples": "N", "run-id": "ID", "host": "NAME", "min-checked": "N",
}

// printUsage writes the help of the command sub ("" for lockstress
// itself) with the flags of fset, or of the command's own flag set if fset
// is nil.
func printUsage(w io.Writer, sub string, fset *flag.FlagSet) {
	c := lookup(sub)
	if fset == nil && c.flags != nil {
		fset = c.flags()
	}
	if c.name == "" {
		fmt.Fprintf(w, "Usage:\n")
		for _, c := range commands {
			fmt.Fprintf(w, "  %s\n        %s\n", c.usageLine(), c.short)
		}
	} else {
		fmt.Fprintf(w, "Usage: %s\n", c.usageLine())
	}
	fmt.Fprintf(w, "\n%s\n", c.long)
	if hasFlags(fset) {
		fmt.Fprintf(w, "\nFlags:\n")
		printFlags(w, fset)
	}
	if c.exits {
		printExitStatuses(w)
	}
	if c.name == "" {
		fmt.Fprint(w, examples)
	}
	fmt.Fprint(w, seeDocs)
}

func hasFlags(fset *flag.FlagSet) bool {
	n := 0
	if fset != nil {
		fset.VisitAll(func(*flag.Flag) { n++ })
	}
	return n > 0
}

// printFlags writes every flag of fset with its argument, its meaning,
// its default (not for a boolean that is off by default) and an example.
func printFlags(w io.Writer, fset *flag.FlagSet) {
	fset.VisitAll(func(f *flag.Flag) {
		fmt.Fprintf(w, "  -%s", f.Name)
		if arg := flagArgs[f.Name]; arg != "" {
			fmt.Fprintf(w, " %s", arg)
		}
		desc, example, _ := strings.Cut(f.Usage, "\nExample: ")
		if showDefault(f) && !strings.Contains(desc, "(default") {
			desc += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(w, "\n        %s\n        Example: %s\n", strings.ReplaceAll(desc, "\n", "\n        "), example)
	})
}

// showDefault reports whether the usage states the flag's default: not
// for an empty or zero default, nor for a boolean that is off.
func showDefault(f *flag.Flag) bool {
	switch f.DefValue {
	case "", "0", "0s":
		return false
	case "false":
		b, ok := f.Value.(interface{ IsBoolFlag() bool })
		return !ok || !b.IsBoolFlag()
	}
	return true
}
