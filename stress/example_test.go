package stress_test

import (
	"context"
	"fmt"
	"time"

	"github.com/lockstress/lockstress/stress"
)

func ExampleParseDist() {
	for _, s := range []string{"1ms", "uniform:0-2ms", "exp:500us"} {
		d, err := stress.ParseDist(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%-14s mean %v\n", d, d.Mean())
	}
	// Output:
	// 1ms            mean 1ms
	// uniform:0s-2ms mean 1ms
	// exp:500µs      mean 500µs
}

func ExampleJainIndex() {
	fmt.Printf("%.2f\n", stress.JainIndex([]int64{100, 100, 100, 100}))
	fmt.Printf("%.2f\n", stress.JainIndex([]int64{400, 0, 0, 0}))
	fmt.Printf("%.2f\n", stress.JainIndex([]int64{150, 150, 50, 50}))
	// Output:
	// 1.00
	// 0.25
	// 0.80
}

// Run needs the program to serve as its own worker: call
// stress.RunWorkerIfChild first thing in main.
func ExampleRun() {
	stress.RunWorkerIfChild()
	rep, err := stress.Run(context.Background(), stress.Config{
		Strategy: stress.Racy, // broken on purpose: the detectors must fire
		Procs:    4,
		Duration: 300 * time.Millisecond,
		Hold:     stress.Fixed(time.Millisecond),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(rep.Verdict, rep.Detectors.Occupancy.Count > 0)
	// Output: FAIL true
}
