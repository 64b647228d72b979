package bundle

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// A bundle's default image (rootfs-docker.ext4) is its base image
// (rootfs.ext4) plus Docker Engine, derived from a block copy of the base,
// so most of its blocks are the base's. The archive stores it as a block
// delta against the base: a tar entry carrying the PAX record
// paxDeltaBase (the base's bundle path) whose body is
//
//	"BGDELTA1 <block size> <file size>\n" then, per block in order, one op:
//	'z'  a block of zeros (left as a hole on unpack)
//	's'  the same bytes as the base at the same offset
//	'd'  followed by the block's bytes (the last block may be short)
//
// Unpacking writes every file sparse (zero blocks become holes) and applies
// deltas after the whole archive is read, so the base may come later in
// the archive than the delta (it does: "rootfs-docker" sorts before
// "rootfs.").
const (
	paxDeltaBase = "BANGER.delta-base"
	deltaMagic   = "BGDELTA1"
	deltaBlock   = 64 << 10
	deltaSuffix  = ".banger-delta"
)

// deltaOps compares target with base block by block and returns one op per
// block of target, and the delta's encoded size. Blocks past base's end
// can only be 'z' or 'd'.
func deltaOps(ctx context.Context, target, base string) ([]byte, int64, error) {
	t, err := os.Open(target)
	if err != nil {
		return nil, 0, err
	}
	defer t.Close()
	b, err := os.Open(base)
	if err != nil {
		return nil, 0, err
	}
	defer b.Close()
	st, err := t.Stat()
	if err != nil {
		return nil, 0, err
	}
	size := st.Size()
	tb, bb := make([]byte, deltaBlock), make([]byte, deltaBlock)
	ops := make([]byte, 0, (size+deltaBlock-1)/deltaBlock)
	enc := int64(len(deltaHeader(size)))
	for off := int64(0); off < size; off += deltaBlock {
		if err := ctx.Err(); err != nil {
			return nil, 0, err
		}
		n := int(min(deltaBlock, size-off))
		if _, err := t.ReadAt(tb[:n], off); err != nil {
			return nil, 0, err
		}
		op := byte('d')
		switch {
		case allZero(tb[:n]):
			op = 'z'
		default:
			m, _ := b.ReadAt(bb[:n], off)
			if m == n && bytes.Equal(tb[:n], bb[:n]) {
				op = 's'
			}
		}
		ops = append(ops, op)
		enc++
		if op == 'd' {
			enc += int64(n)
		}
	}
	return ops, enc, nil
}

func deltaHeader(size int64) string {
	return fmt.Sprintf("%s %d %d\n", deltaMagic, deltaBlock, size)
}

// writeDelta encodes target as ops (from deltaOps) into w.
func writeDelta(ctx context.Context, w io.Writer, target string, ops []byte) error {
	t, err := os.Open(target)
	if err != nil {
		return err
	}
	defer t.Close()
	st, err := t.Stat()
	if err != nil {
		return err
	}
	size := st.Size()
	bw := bufio.NewWriterSize(w, deltaBlock+1)
	if _, err := io.WriteString(bw, deltaHeader(size)); err != nil {
		return err
	}
	buf := make([]byte, deltaBlock)
	for i, op := range ops {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := bw.WriteByte(op); err != nil {
			return err
		}
		if op != 'd' {
			continue
		}
		off := int64(i) * deltaBlock
		n := int(min(deltaBlock, size-off))
		if _, err := t.ReadAt(buf[:n], off); err != nil {
			return err
		}
		if _, err := bw.Write(buf[:n]); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// applyDelta rebuilds dst from the encoded delta and base, sparse.
func applyDelta(ctx context.Context, delta, base, dst string, perm os.FileMode) error {
	df, err := os.Open(delta)
	if err != nil {
		return err
	}
	defer df.Close()
	bf, err := os.Open(base)
	if err != nil {
		return fmt.Errorf("base %s of %s: %w", filepath.Base(base), filepath.Base(dst), err)
	}
	defer bf.Close()
	r := bufio.NewReaderSize(df, deltaBlock+1)
	var magic string
	var block, size int64
	if _, err := fmt.Fscanf(r, "%s %d %d\n", &magic, &block, &size); err != nil || magic != deltaMagic || block <= 0 || block > 16<<20 || size < 0 {
		return fmt.Errorf("%s: not a banger block delta", filepath.Base(dst))
	}
	if size > maxEntrySize {
		return fmt.Errorf("%s: the delta declares %d bytes, more than the %d-byte limit for one file: the archive is not a banger runtime bundle", filepath.Base(dst), size, maxEntrySize)
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	buf := make([]byte, block)
	werr := func() error {
		for off := int64(0); off < size; off += block {
			if err := ctx.Err(); err != nil {
				return err
			}
			n := int(min(block, size-off))
			op, err := r.ReadByte()
			if err != nil {
				return fmt.Errorf("%s: delta truncated: %w", filepath.Base(dst), err)
			}
			switch op {
			case 'z':
				continue
			case 's':
				if _, err := bf.ReadAt(buf[:n], off); err != nil {
					return fmt.Errorf("%s: base %s is shorter than the delta needs: %w", filepath.Base(dst), filepath.Base(base), err)
				}
			case 'd':
				if _, err := io.ReadFull(r, buf[:n]); err != nil {
					return fmt.Errorf("%s: delta truncated: %w", filepath.Base(dst), err)
				}
			default:
				return fmt.Errorf("%s: bad delta op %q", filepath.Base(dst), op)
			}
			if allZero(buf[:n]) {
				continue
			}
			if _, err := out.WriteAt(buf[:n], off); err != nil {
				return err
			}
		}
		if _, err := r.ReadByte(); !errors.Is(err, io.EOF) {
			return fmt.Errorf("%s: trailing bytes after the delta", filepath.Base(dst))
		}
		return out.Truncate(size)
	}()
	if err := errors.Join(werr, out.Close()); err != nil {
		os.Remove(dst)
		return err
	}
	return os.Chmod(dst, perm)
}

// copySparse copies r to f, leaving all-zero blocks as holes, and sets the
// file's size to the bytes read.
func copySparse(f *os.File, r io.Reader) error {
	buf := make([]byte, deltaBlock)
	var off int64
	for {
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			if !allZero(buf[:n]) {
				if _, werr := f.WriteAt(buf[:n], off); werr != nil {
					return werr
				}
			}
			off += int64(n)
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return f.Truncate(off)
		}
		if err != nil {
			return err
		}
	}
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
