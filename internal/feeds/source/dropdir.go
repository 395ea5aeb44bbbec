package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// The subdirectories of a drop directory.
const (
	dirProcessing = "processing"
	dirDone       = "done"
	dirFailed     = "failed"
	heartbeatName = ".alive"
	partSuffix    = ".part"
	errorSuffix   = ".error.txt"
)

// DropDirOptions configure a watched drop directory.
type DropDirOptions struct {
	// Dir is the directory that writers drop report files into. Writers
	// should write "name.part" and rename it to "name" when complete;
	// files named *.part or starting with a dot are never taken.
	Dir string
	// Instance names this process among those sharing Dir. It must be
	// unique among the running instances and the same after a restart,
	// so that a file claimed before a crash is picked up again. Default:
	// the host name.
	Instance string
	// Workers is how many files are processed at a time (default 2).
	Workers int
	// Poll is the interval between two looks at Dir (default 5s). A file
	// is taken once its size and modification time are the same in two
	// consecutive looks.
	Poll time.Duration
	// ReclaimAfter is how long another instance's heartbeat may be silent
	// before its claimed files are put back into Dir for the others
	// (default 10 minutes, at least 10 polls).
	ReclaimAfter time.Duration
}

func (o *DropDirOptions) defaults() error {
	if o.Dir == "" {
		return errors.New("dropdir: no directory")
	}
	if o.Instance == "" {
		h, err := os.Hostname()
		if err != nil {
			return fmt.Errorf("dropdir: instance name from host name: %w", err)
		}
		o.Instance = h
	}
	if strings.ContainsAny(o.Instance, `/\`) || strings.HasPrefix(o.Instance, ".") {
		return fmt.Errorf("dropdir: instance name %q: no slashes and no leading dot", o.Instance)
	}
	if o.Workers <= 0 {
		o.Workers = 2
	}
	if o.Poll <= 0 {
		o.Poll = 5 * time.Second
	}
	if o.ReclaimAfter <= 0 {
		o.ReclaimAfter = 10 * time.Minute
	}
	o.ReclaimAfter = max(o.ReclaimAfter, 10*o.Poll)
	return nil
}

// DropDir is a directory watched by polling. Each file dropped into it is
// claimed by renaming it into processing/INSTANCE/ (a rename is atomic, so
// of several instances sharing the directory exactly one wins), handed to
// the handler, then moved into done/, or into failed/ with NAME.error.txt
// beside it saying why.
type DropDir struct {
	opt  DropDirOptions
	log  *slog.Logger
	now  func() time.Time
	mine string // processing/INSTANCE

	mu       sync.Mutex
	inflight map[string]bool // names in mine being processed
}

// NewDropDir checks the options; Run creates the subdirectories.
func NewDropDir(opt DropDirOptions, log *slog.Logger) (*DropDir, error) {
	if err := opt.defaults(); err != nil {
		return nil, err
	}
	return &DropDir{
		opt:      opt,
		log:      log.With("source", "dropdir", "dir", opt.Dir),
		now:      time.Now,
		mine:     filepath.Join(opt.Dir, dirProcessing, opt.Instance),
		inflight: map[string]bool{},
	}, nil
}

// fileState is what two consecutive polls compare.
type fileState struct {
	size  int64
	mtime time.Time
}

// Run polls the directory until ctx ends, then waits for the files being
// processed. A file whose handler is interrupted by the end of ctx stays
// in processing/INSTANCE/ and is processed again at the next start.
func (d *DropDir) Run(ctx context.Context, h Handler) error {
	for _, sub := range []string{d.mine, filepath.Join(d.opt.Dir, dirDone), filepath.Join(d.opt.Dir, dirFailed)} {
		if err := os.MkdirAll(sub, 0o750); err != nil {
			return fmt.Errorf("dropdir: %w", err)
		}
	}
	slots := make(chan struct{}, d.opt.Workers)
	var wg sync.WaitGroup
	defer wg.Wait()

	prev := map[string]fileState{}
	tick := time.NewTicker(d.opt.Poll)
	defer tick.Stop()
	for {
		if err := d.heartbeat(); err != nil {
			return err
		}
		d.reclaim()
		var todo []candidate
		todo, prev = d.candidates(prev)
	take:
		for _, c := range todo {
			select {
			case slots <- struct{}{}:
			default:
				break take // every worker is busy: leave the rest to other instances
			}
			if !d.take(c) {
				<-slots
				continue
			}
			wg.Go(func() {
				defer func() { <-slots }()
				d.process(ctx, h, c.name)
			})
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// heartbeat tells the other instances that this one is alive.
func (d *DropDir) heartbeat() error {
	err := os.WriteFile(filepath.Join(d.mine, heartbeatName), []byte(d.now().UTC().Format(time.RFC3339)+"\n"), 0o640)
	if err != nil {
		return fmt.Errorf("dropdir: heartbeat: %w", err)
	}
	return nil
}

// candidate is a file to process: one left in this instance's processing
// directory by an earlier run (claimed), or one dropped into Dir.
type candidate struct {
	name    string
	claimed bool
}

// candidates returns, oldest first, the files to process now: files left
// in this instance's processing directory by an earlier run, then dropped
// files that have not changed since the previous poll. It also returns
// the state of this poll for the next.
func (d *DropDir) candidates(prev map[string]fileState) ([]candidate, map[string]fileState) {
	var out []candidate
	for _, e := range d.files(d.mine) {
		out = append(out, candidate{e.name, true})
	}
	cur := map[string]fileState{}
	for _, e := range d.files(d.opt.Dir) {
		cur[e.name] = e.fileState
		if p, ok := prev[e.name]; ok && p.size == e.size && p.mtime.Equal(e.mtime) {
			out = append(out, candidate{e.name, false})
		}
	}
	return out, cur
}

type dirFile struct {
	name string
	fileState
}

// files lists the regular files of dir that may be taken, oldest first.
func (d *DropDir) files(dir string) []dirFile {
	entries, err := os.ReadDir(dir)
	if err != nil {
		d.log.Warn("dropdir: list", "path", dir, "err", err)
		return nil
	}
	var out []dirFile
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || strings.HasPrefix(name, ".") || strings.HasSuffix(name, partSuffix) {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue // gone meanwhile
		}
		out = append(out, dirFile{name, fileState{fi.Size(), fi.ModTime()}})
	}
	slices.SortFunc(out, func(a, b dirFile) int {
		if c := a.mtime.Compare(b.mtime); c != 0 {
			return c
		}
		return strings.Compare(a.name, b.name)
	})
	return out
}

func (d *DropDir) done(name string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.inflight, name)
}

// take marks a candidate as being processed. A dropped file is first
// claimed by renaming it into this instance's processing directory; take
// is false when another instance was faster or the file is gone. A name
// being processed is not taken again until it is finished.
func (d *DropDir) take(c candidate) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.inflight[c.name] {
		return false
	}
	if !c.claimed {
		err := os.Rename(filepath.Join(d.opt.Dir, c.name), filepath.Join(d.mine, c.name))
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				d.log.Warn("dropdir: claim", "file", c.name, "err", err)
			}
			return false
		}
	}
	d.inflight[c.name] = true
	return true
}

// process hands one claimed file to the handler and files it by outcome.
func (d *DropDir) process(ctx context.Context, h Handler, name string) {
	defer d.done(name)
	path := filepath.Join(d.mine, name)
	fi, err := os.Stat(path)
	if err != nil {
		d.log.Warn("dropdir: claimed file vanished", "file", name, "err", err)
		return
	}
	f := File{
		Name: name, Size: fi.Size(), Source: "dropdir", Ref: path, Received: d.now(),
		Open: func() (io.ReadCloser, error) { return os.Open(path) },
	}
	start := d.now()
	err = safeCall(ctx, h, f)
	if err != nil && ctx.Err() != nil {
		d.log.Info("dropdir: interrupted, kept for the next start", "file", name)
		return
	}
	if err != nil {
		dst, ferr := d.fail(path, name, err)
		d.log.Warn("dropdir: file failed", "file", name, "moved_to", dst, "err", err)
		if ferr != nil {
			d.log.Error("dropdir: move to failed/", "file", name, "err", ferr)
		}
		return
	}
	dst, err := moveNoReplace(path, filepath.Join(d.opt.Dir, dirDone), name, "")
	if err != nil {
		d.log.Error("dropdir: move to done/", "file", name, "err", err)
		return
	}
	d.log.Info("dropdir: file processed", "file", name, "moved_to", dst, "duration", d.now().Sub(start))
}

// safeCall calls h and turns a panic into an error, so that one bad file
// does not stop the others.
func safeCall(ctx context.Context, h Handler, f File) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("handler panic: %v", r)
		}
	}()
	return h(ctx, f)
}

// fail moves a file into failed/ and writes why beside it.
func (d *DropDir) fail(path, name string, cause error) (string, error) {
	dst, err := moveNoReplace(path, filepath.Join(d.opt.Dir, dirFailed), name, errorSuffix)
	if err != nil {
		return "", err
	}
	text := fmt.Sprintf("file: %s\ninstance: %s\ntime: %s\nerror: %v\n",
		name, d.opt.Instance, d.now().UTC().Format(time.RFC3339), cause)
	return dst, writeAtomic(dst+errorSuffix, []byte(text))
}

// moveNoReplace moves src into dir under name, or under name with a
// counter ("a.2.csv") when that is taken, and returns the new path. It
// links then unlinks, so that two instances never overwrite each
// other's file; companion, when set, is a suffix whose file must be free
// too (the error note of a failed file).
func moveNoReplace(src, dir, name, companion string) (string, error) {
	for i := 1; i < 10000; i++ {
		dst := filepath.Join(dir, numbered(name, i))
		if companion != "" {
			if _, err := os.Lstat(dst + companion); err == nil {
				continue
			}
		}
		err := os.Link(src, dst)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			// A file system without hard links: a plain rename after a check.
			if _, serr := os.Lstat(dst); serr == nil {
				continue
			}
			if err := os.Rename(src, dst); err != nil {
				return "", err
			}
			return dst, nil
		}
		return dst, os.Remove(src)
	}
	return "", fmt.Errorf("no free name for %s in %s", name, dir)
}

// numbered returns name for i == 1, else name with ".i" before its first
// extension: numbered("a.csv.gz", 2) == "a.2.csv.gz".
func numbered(name string, i int) string {
	if i == 1 {
		return name
	}
	stem, ext := name, ""
	if j := strings.IndexByte(name, '.'); j > 0 {
		stem, ext = name[:j], name[j:]
	}
	return fmt.Sprintf("%s.%d%s", stem, i, ext)
}

// writeAtomic writes a file through a temporary name and a rename.
func writeAtomic(path string, b []byte) error {
	tmp := path + partSuffix
	if err := os.WriteFile(tmp, b, 0o640); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// reclaim puts back into Dir the files claimed by instances whose
// heartbeat has been silent for ReclaimAfter (they crashed and have not
// come back), then removes their emptied directories.
func (d *DropDir) reclaim() {
	root := filepath.Join(d.opt.Dir, dirProcessing)
	entries, err := os.ReadDir(root)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() || e.Name() == d.opt.Instance {
			continue
		}
		dir := filepath.Join(root, e.Name())
		beat, err := os.Stat(filepath.Join(dir, heartbeatName))
		if err != nil {
			beat, err = os.Stat(dir)
			if err != nil {
				continue
			}
		}
		if d.now().Sub(beat.ModTime()) < d.opt.ReclaimAfter {
			continue
		}
		for _, f := range d.files(dir) {
			dst := filepath.Join(d.opt.Dir, f.name)
			if _, err := os.Lstat(dst); err == nil {
				continue // a new file of the same name: try again later
			}
			if err := os.Rename(filepath.Join(dir, f.name), dst); err == nil {
				d.log.Warn("dropdir: reclaimed a file of a silent instance", "file", f.name, "instance", e.Name())
			}
		}
		os.Remove(filepath.Join(dir, heartbeatName))
		os.Remove(dir) // fails while files remain; fine
	}
}
