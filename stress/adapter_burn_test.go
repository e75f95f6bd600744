package stress

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"time"
)

// burnAdapterEnv makes the test binary, run as an adapter command, a lock
// adapter that burns burnPerLock of its own CPU time at each lock request
// (and locks nothing: the tests using it run one worker at a time or look
// at nothing but CPU).
const burnAdapterEnv = "LOCKSTRESS_TEST_BURN_ADAPTER"

const burnPerLock = 20 * time.Millisecond

// runBurnAdapterIfAsked runs the burning adapter and exits, if the
// environment asks for it.
func runBurnAdapterIfAsked() {
	if os.Getenv(burnAdapterEnv) == "" || !platformSupported {
		return
	}
	fmt.Println("ready")
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "lock ") {
			for start := cpuTime(); cpuTime()-start < burnPerLock; {
			}
		}
		fmt.Println("ok")
	}
	os.Exit(0)
}
