package stress

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/lockstress/lockstress/internal/fsys"
	"github.com/lockstress/lockstress/stress/detect"
)

// setup checks the directory under test and makes what the run needs in
// it and in the scratch directory: the run and log directories, the shared
// region, the ledger; and names the workers.
func (r *runner) setup() error {
	r.runID = r.cfg.RunID
	if r.runID == "" {
		r.runID = randomID()
	}
	if err := checkDirUnderTest(r.cfg.Dir); err != nil {
		return err
	}
	if err := r.makeRunDir(); err != nil {
		return err
	}
	r.fs = probeFilesystem(r.runDir)
	r.reopenLedger = r.cfg.Join || !localFilesystems[r.fs.Type]
	if err := r.makeScratch(); err != nil {
		return err
	}
	r.lockPath = filepath.Join(r.runDir, "lock")
	if !r.cfg.DetectorsOff {
		r.ledgerPath = filepath.Join(r.runDir, "ledger")
		if err := createLedger(r.ledgerPath); err != nil {
			return err
		}
	}
	for i := range r.cfg.Procs {
		name := fmt.Sprintf("w%d", i)
		if r.cfg.Join {
			name = r.cfg.Host + "/" + name
		}
		r.workers = append(r.workers, &workerRun{id: i, name: name})
	}
	return nil
}

// checkDirUnderTest checks that dir, if given, is a directory.
func checkDirUnderTest(dir string) error {
	if dir == "" {
		return nil
	}
	info, err := os.Stat(dir)
	if err == nil && !info.IsDir() {
		err = errors.New("not a directory")
	}
	if err != nil {
		return &fs.PathError{Op: "use directory under test", Path: dir, Err: unwrapPath(err)}
	}
	return nil
}

// makeRunDir makes the run directory: DIR/RUN-ID and this host's directory
// in it for a run that hosts join, else a directory of this run's own,
// removed at its end.
func (r *runner) makeRunDir() error {
	if !r.cfg.Join {
		var err error
		parent := cmp.Or(r.cfg.Dir, os.TempDir())
		if r.runDir, err = r.makeOwnedDir(parent, "lockstress-"); err != nil {
			return &fs.PathError{Op: "use directory under test", Path: parent, Err: fmt.Errorf("making the run's directory there: %w", unwrapPath(err))}
		}
		r.removeDir = r.runDir
		return nil
	}
	r.runDir = filepath.Join(r.cfg.Dir, r.runID)
	if err := os.MkdirAll(r.runDir, 0o777); err != nil {
		return &fs.PathError{Op: "use directory under test", Path: r.cfg.Dir, Err: fmt.Errorf("making the run's directory %s there: %w", r.runID, unwrapPath(err))}
	}
	if err := joinRun(r.runDir, r.runID, r.cfg); err != nil {
		return err
	}
	r.hostDir = filepath.Join(r.runDir, "hosts", fmt.Sprintf("%s-%d-%s", detect.CleanOwner(r.cfg.Host), os.Getpid(), randomID()[:6]))
	return os.MkdirAll(r.hostDir, 0o777)
}

// makeScratch makes this host's scratch directory, its log directory and
// the shared region in it.
func (r *runner) makeScratch() error {
	var err error
	if r.scratch, err = r.makeOwnedDir(scratchBase(), "lockstress-scratch-"); err != nil {
		return err
	}
	r.logDir = filepath.Join(r.scratch, "logs")
	if err := os.Mkdir(r.logDir, 0o700); err != nil {
		return err
	}
	r.regionPath = filepath.Join(r.scratch, "region")
	r.reg, err = createRegion(r.regionPath, r.cfg.Procs)
	return err
}

// makeOwnedDir makes a directory named prefix* in parent and marks it as
// this run's, after removing those that dead runs left there.
func (r *runner) makeOwnedDir(parent, prefix string) (string, error) {
	r.swept = append(r.swept, sweep(parent, prefix)...)
	dir, err := os.MkdirTemp(parent, prefix)
	if err != nil {
		return "", err
	}
	if err := markOwned(dir); err != nil {
		return "", errors.Join(err, os.Remove(dir))
	}
	return dir, nil
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// scratchParent, when set (by tests), is where scratch directories go.
var scratchParent string

// ScratchDirEnv names the environment variable that, when set, is where
// the shared region and the logs of this host go instead.
const ScratchDirEnv = "LOCKSTRESS_SCRATCH_DIR"

// scratchBase is where the shared region and the logs of this host go:
// the directory ScratchDirEnv names, else /dev/shm when it can be used,
// so that the logs cost no disk I/O, else the temporary directory.
func scratchBase() string {
	if scratchParent != "" {
		return scratchParent
	}
	if d := os.Getenv(ScratchDirEnv); d != "" {
		return d
	}
	if info, err := os.Stat("/dev/shm"); err == nil && info.IsDir() {
		if f, err := os.CreateTemp("/dev/shm", "lockstress-probe-"); err == nil {
			f.Close()
			os.Remove(f.Name())
			return "/dev/shm"
		}
	}
	return os.TempDir()
}

// createLedger creates the ledger released at sequence number 0, unless it
// exists. The record is written to a file of its own and linked into place,
// so that no worker, of this host or another, ever reads a half-made
// ledger.
func createLedger(path string) error {
	tmp := fmt.Sprintf("%s.%s.tmp", path, randomID())
	rec := detect.AppendRecord(nil, detect.Record{Seq: 0, State: detect.Released, Owner: "-"})
	if err := os.WriteFile(tmp, rec, 0o666); err != nil {
		return err
	}
	err := os.Link(tmp, path)
	if lost, _, _ := fsys.LostRace(fsys.OS{}, path, err); lost {
		err = nil
	}
	return errors.Join(err, os.Remove(tmp))
}
