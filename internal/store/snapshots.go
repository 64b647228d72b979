package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bangerdev/banger/internal/model"
)

// Snapshot is the record of one point-in-time copy of a VM's disks (and,
// with Memory, its saved running state).
type Snapshot struct {
	VM   string
	Name string
	// Dir holds the snapshot's files.
	Dir string
	// Memory is true when the snapshot includes a saved running state.
	Memory bool
	// Method is how the disks were copied ("reflink", "sparse-copy").
	Method string
	// Allocated is the host space the snapshot's files take, in bytes.
	Allocated int64
	// Files are the snapshot's disk copies and saved state (a JSON column;
	// an unreadable one reads as no files).
	Files     model.SnapshotFiles
	CreatedAt time.Time
}

const snapshotColumns = `vm_name, name, dir, memory, method, allocated, meta, created_at`

func scanSnapshot(row interface{ Scan(...any) error }) (*Snapshot, error) {
	var s Snapshot
	var created, files string
	if err := row.Scan(&s.VM, &s.Name, &s.Dir, &s.Memory, &s.Method, &s.Allocated, &files, &created); err != nil {
		return nil, err
	}
	if f := decodeJSON[model.SnapshotFiles](files, nil); f != nil {
		s.Files = *f
	}
	s.CreatedAt, _ = time.Parse(time.RFC3339Nano, created)
	return &s, nil
}

// InsertSnapshot adds a snapshot; ErrExists when the VM has one of that name.
func (s *Store) InsertSnapshot(ctx context.Context, sn *Snapshot) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO snapshots (`+snapshotColumns+`) VALUES (?,?,?,?,?,?,?,?)`,
		sn.VM, sn.Name, sn.Dir, sn.Memory, sn.Method, sn.Allocated, encodeJSON(&sn.Files), fmtTime(sn.CreatedAt))
	if err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed") {
		return fmt.Errorf("snapshot %q of %s: %w", sn.Name, sn.VM, ErrExists)
	}
	return err
}

// GetSnapshot returns the snapshot name of vm.
func (s *Store) GetSnapshot(ctx context.Context, vm, name string) (*Snapshot, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+snapshotColumns+` FROM snapshots WHERE vm_name = ? AND name = ?`, vm, name)
	sn, err := scanSnapshot(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("snapshot %q of %s: %w", name, vm, ErrNotFound)
	}
	return sn, err
}

// ListSnapshots returns vm's snapshots, oldest first.
func (s *Store) ListSnapshots(ctx context.Context, vm string) ([]*Snapshot, error) {
	return queryAll(ctx, s.db, scanSnapshot, `SELECT `+snapshotColumns+` FROM snapshots WHERE vm_name = ? ORDER BY created_at, name`, vm)
}

// DeleteSnapshot removes a snapshot record.
func (s *Store) DeleteSnapshot(ctx context.Context, vm, name string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM snapshots WHERE vm_name = ? AND name = ?`, vm, name)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("snapshot %q of %s: %w", name, vm, ErrNotFound)
	}
	return nil
}
