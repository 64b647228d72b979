package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

const copyChunk = 1 << 20 // bytes read per step
const zeroBlock = 4096    // all-zero blocks of this size are left as holes

// sparseCopy copies base to dst, visiting only the data regions of base
// (SEEK_DATA/SEEK_HOLE) and leaving all-zero blocks unwritten, so dst stays
// sparse. On failure dst is removed.
func sparseCopy(ctx context.Context, base, dst string) (err error) {
	src, err := os.Open(base)
	if err != nil {
		return fmt.Errorf("sparse-copy overlay: %w", err)
	}
	defer src.Close()
	st, err := src.Stat()
	if err != nil {
		return fmt.Errorf("sparse-copy overlay: %w", err)
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("sparse-copy overlay: %w", err)
	}
	defer func() {
		if cerr := out.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("sparse-copy overlay: %w", cerr)
		}
		if err != nil {
			os.Remove(dst)
		}
	}()
	size := st.Size()
	if err := out.Truncate(size); err != nil {
		return fmt.Errorf("sparse-copy overlay: size %s: %w", dst, err)
	}
	buf := make([]byte, copyChunk)
	var off int64
	for off < size {
		start, err := unix.Seek(int(src.Fd()), off, unix.SEEK_DATA)
		if errors.Is(err, unix.ENXIO) {
			break // only a hole remains
		}
		if err != nil {
			return fmt.Errorf("sparse-copy overlay: find data in %s: %w", base, err)
		}
		end, err := unix.Seek(int(src.Fd()), start, unix.SEEK_HOLE)
		if err != nil {
			return fmt.Errorf("sparse-copy overlay: find hole in %s: %w", base, err)
		}
		if err := copyRange(ctx, src, out, start, end, buf); err != nil {
			return fmt.Errorf("sparse-copy overlay: copy %s to %s: %w", base, dst, err)
		}
		off = end
	}
	return out.Sync()
}

// copyRange copies [start,end) skipping all-zero blocks.
func copyRange(ctx context.Context, src, out *os.File, start, end int64, buf []byte) error {
	for pos := start; pos < end; {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := int64(len(buf))
		if end-pos < n {
			n = end - pos
		}
		got, err := src.ReadAt(buf[:n], pos)
		if err != nil && !(errors.Is(err, io.EOF) && int64(got) == n) {
			return err
		}
		if err := writeNonZero(out, buf[:got], pos); err != nil {
			return err
		}
		pos += int64(got)
	}
	return nil
}

// writeNonZero writes p at off, leaving blocks of zeros unwritten; runs of
// non-zero blocks are written with one call.
func writeNonZero(out *os.File, p []byte, off int64) error {
	var zero [zeroBlock]byte
	run := -1 // start of the current run of non-zero blocks
	flush := func(end int) error {
		if run < 0 {
			return nil
		}
		_, err := out.WriteAt(p[run:end], off+int64(run))
		run = -1
		return err
	}
	for i := 0; i < len(p); i += zeroBlock {
		j := min(i+zeroBlock, len(p))
		if bytes.Equal(p[i:j], zero[:j-i]) {
			if err := flush(i); err != nil {
				return err
			}
		} else if run < 0 {
			run = i
		}
	}
	return flush(len(p))
}
