package stress

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"
)

// The test binary is also the worker: Run starts it again as a worker.
func TestMain(m *testing.M) {
	RunWorkerIfChild()
	runBurnAdapterIfAsked()
	if !platformSupported {
		fmt.Println("skipping: the harness needs Linux")
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}
