package daemon

import (
	"bytes"
	"fmt"
	"io"
	"os"
)

// Console log cap: a guest that prints endlessly must not fill the host's
// disk. While a VM runs, its monitor checks the console log every tick;
// once it is larger than consoleLogCap it is cut to its last consoleLogKeep
// bytes (from a line start) behind a marker line. Both VMMs append to the
// file (O_APPEND), so they keep writing at the new end. While bangerd is
// not running nothing is cut; adoption restarts the check.
const (
	consoleLogCap  = 8 << 20
	consoleLogKeep = 1 << 20
)

// capConsoleLog cuts the file at path to its last keep bytes when it holds
// more than limit, and reports whether it did. The file is cut in place,
// not replaced by a renamed copy: the VMM keeps its descriptor open and
// would go on writing into a replaced, unlinked file. For readers the cut
// is never an empty file: the marker and the kept tail are first written
// over the start of the file (shorter than what is there), and only then
// is the file truncated to their length, so a reader sees the old content,
// the new start followed by old bytes, or the cut file, never nothing.
func capConsoleLog(path string, limit, keep int64) (bool, error) {
	fi, err := os.Stat(path)
	if err != nil || fi.Size() <= limit || keep >= limit {
		return false, nil
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return false, fmt.Errorf("cap console log: %w", err)
	}
	defer f.Close()
	tail := make([]byte, keep)
	n, err := f.ReadAt(tail, fi.Size()-keep)
	if err != nil && err != io.EOF {
		return false, fmt.Errorf("cap console log: read %s: %w", path, err)
	}
	tail = tail[:n]
	if i := bytes.IndexByte(tail, '\n'); i >= 0 {
		tail = tail[i+1:]
	}
	marker := fmt.Sprintf("[banger: console log passed %d MiB; older output dropped]\n", limit>>20)
	cut := append([]byte(marker), tail...)
	if _, err := f.WriteAt(cut, 0); err != nil {
		return true, fmt.Errorf("cap console log: write %s: %w", path, err)
	}
	if err := f.Truncate(int64(len(cut))); err != nil {
		return true, fmt.Errorf("cap console log: truncate %s: %w", path, err)
	}
	return true, nil
}

// followConsole returns the file a follower of the console log at path
// (`vm logs -f`), having read f to its end, reads next: f rewound to the
// start when the cap cut the file below what was read (the marker line
// says so), the file now at path when a start replaced it, else f. A file
// it replaces is closed.
func followConsole(f *os.File, path string) *os.File {
	cur, err := f.Stat()
	if err != nil {
		return f
	}
	if now, err := os.Stat(path); err == nil && !os.SameFile(cur, now) {
		if nf, err := os.Open(path); err == nil {
			f.Close()
			return nf
		}
		return f
	}
	if pos, err := f.Seek(0, io.SeekCurrent); err == nil && cur.Size() < pos {
		_, _ = f.Seek(0, io.SeekStart)
	}
	return f
}
