package filelock_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/lockstress/lockstress/filelock"
)

func Example() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)

	// A minute at most: a lock that is never released fails the wait
	// instead of hanging the program.
	l, err := filelock.New(filepath.Join(dir, "state.lock"), filelock.WithTimeout(time.Minute))
	if err != nil {
		log.Fatal(err)
	}
	if err := l.Lock(); err != nil {
		log.Fatal(err)
	}
	fmt.Println("holding the lock")
	// ... work that no other process may do at the same time ...
	if err := l.Unlock(); err != nil {
		log.Fatal(err)
	}
	// Output: holding the lock
}

func ExampleLock_TryLock() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "job.lock")

	holder, _ := filelock.New(path)
	_ = holder.TryLock()
	defer holder.Unlock()

	other, _ := filelock.New(path)
	if err := other.TryLock(); errors.Is(err, filelock.ErrWouldBlock) {
		fmt.Println("another owner holds it; skipping this run")
	}
	// Output: another owner holds it; skipping this run
}

func ExampleLock_LockContext() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "db.lock")

	holder, _ := filelock.New(path, filelock.WithStrategy(filelock.OS))
	_ = holder.TryLock()
	defer holder.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	waiter, _ := filelock.New(path, filelock.WithStrategy(filelock.OS))
	err := waiter.LockContext(ctx)
	fmt.Println(errors.Is(err, filelock.ErrTimeout), errors.Is(err, context.DeadlineExceeded))
	// Output: true true
}

func ExampleInspect() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "x.lock")

	l, _ := filelock.New(path)
	_ = l.TryLock()
	defer l.Unlock()

	st, err := filelock.Inspect(path)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(st.Held, st.Holder.PID == os.Getpid())
	// Output: true true
}

func ExampleNew_badOption() {
	_, err := filelock.New("x.lock", filelock.WithBackoff(time.Second, time.Millisecond))
	fmt.Println(err)
	fmt.Println(errors.Is(err, filelock.ErrInvalidOption))
	// Output:
	// new x.lock: invalid lock option: backoff min 1s is greater than max 1ms
	// true
}

func ExampleAtomicInit() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	marker := filepath.Join(dir, "schema.done")

	for range 3 {
		ran, err := filelock.AtomicInit(marker, func() error {
			fmt.Println("creating the schema")
			return nil
		}, filelock.WithTimeout(time.Minute))
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("ran:", ran)
	}
	// Output:
	// creating the schema
	// ran: true
	// ran: false
	// ran: false
}

func ExampleLock_Lost() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)

	l, _ := filelock.New(filepath.Join(dir, "job.lock"), filelock.WithStaleAfter(time.Minute), filelock.WithTimeout(time.Minute))
	if err := l.Lock(); err != nil {
		log.Fatal(err)
	}
	work := time.After(10 * time.Millisecond) // a long job, in steps
	select {
	case <-l.Lost():
		// The lock was broken as stale: stop working on what it protects.
		fmt.Println("lost the lock")
	case <-work:
		fmt.Println("done")
	}
	if err := l.Unlock(); errors.Is(err, filelock.ErrLockLost) {
		fmt.Println("the lock had been taken over")
	}
	// Output: done
}
