package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bangerdev/banger/internal/model"
	"github.com/bangerdev/banger/internal/vmm"
)

const vmColumns = `v.name, v.image, v.state, v.vcpus, v.memory_mib, v.disk_size, v.nat, COALESCE(a.ip, ''),
	v.mac, v.tap, v.driver, v.dir, v.overlay_kind, v.overlay_path, v.overlay_format, v.overlay_device,
	v.work_disk, v.kernel, v.initrd, v.base_image, v.host_key_pub, v.handle, v.last_error, v.created_at, v.started_at,
	v.saved_state, v.resume_on_start, v.boot_timings`

// scanVM reads one VM row. The typed fields (VMM handle, saved state, boot
// timings) are JSON columns; no caller sees their encoding.
func scanVM(row interface{ Scan(...any) error }) (*model.VM, error) {
	var v model.VM
	var created, started, handle, saved, timings string
	err := row.Scan(&v.Name, &v.Image, &v.State, &v.VCPUs, &v.MemoryMiB, &v.DiskSize, &v.NAT, &v.IP,
		&v.MAC, &v.Tap, &v.Driver, &v.Dir, &v.OverlayKind, &v.OverlayPath, &v.OverlayFormat, &v.OverlayDevice,
		&v.WorkDisk, &v.Kernel, &v.Initrd, &v.BaseImage, &v.HostKeyPub, &handle, &v.LastError, &created, &started,
		&saved, &v.ResumeOnStart, &timings)
	if err != nil {
		return nil, err
	}
	v.Handle = decodeJSON[vmm.Handle](handle, func(h *vmm.Handle) bool { return h.PID != 0 })
	v.SavedState = decodeJSON[model.SavedState](saved, func(s *model.SavedState) bool { return s.Dir != "" })
	v.BootTimings = decodeJSON[model.BootTimings](timings, nil)
	v.CreatedAt, _ = time.Parse(time.RFC3339Nano, created)
	if started != "" {
		v.StartedAt, _ = time.Parse(time.RFC3339Nano, started)
	}
	return &v, nil
}

// decodeJSON reads a JSON column written by encodeJSON; an empty, unreadable
// or (by valid) meaningless value reads as nil, as if none was recorded.
func decodeJSON[T any](s string, valid func(*T) bool) *T {
	if s == "" {
		return nil
	}
	var v T
	if json.Unmarshal([]byte(s), &v) != nil || (valid != nil && !valid(&v)) {
		return nil
	}
	return &v
}

// encodeJSON is the column text of v: JSON, or empty for nil.
func encodeJSON[T any](v *T) string {
	if v == nil {
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// InsertVM adds a VM and its address in one transaction. It fails with
// ErrExists when the name, tap or address is taken.
func (s *Store) InsertVM(ctx context.Context, v *model.VM) error {
	err := s.Tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO vms (name, image, state, vcpus, memory_mib, disk_size, nat, mac, tap,
			driver, dir, overlay_kind, overlay_path, overlay_format, overlay_device, work_disk, kernel, initrd,
			base_image, host_key_pub, handle, last_error, created_at, started_at, saved_state, resume_on_start, boot_timings)
			VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
			v.Name, v.Image, v.State, v.VCPUs, v.MemoryMiB, v.DiskSize, v.NAT, v.MAC, v.Tap,
			v.Driver, v.Dir, v.OverlayKind, v.OverlayPath, v.OverlayFormat, v.OverlayDevice, v.WorkDisk, v.Kernel, v.Initrd,
			v.BaseImage, v.HostKeyPub, encodeJSON(v.Handle), v.LastError, fmtTime(v.CreatedAt), fmtTime(v.StartedAt),
			encodeJSON(v.SavedState), v.ResumeOnStart, encodeJSON(v.BootTimings))
		if err != nil {
			return err
		}
		if v.IP != "" {
			_, err = tx.ExecContext(ctx, `INSERT INTO addresses (ip, vm_name) VALUES (?, ?)`, v.IP, v.Name)
		}
		return err
	})
	if err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed") {
		return fmt.Errorf("vm %q: %w", v.Name, ErrExists)
	}
	return err
}

// UpdateVM rewrites every mutable column of v (not its name or address).
func (s *Store) UpdateVM(ctx context.Context, v *model.VM) error {
	res, err := s.db.ExecContext(ctx, `UPDATE vms SET image=?, state=?, vcpus=?, memory_mib=?, disk_size=?, nat=?,
		mac=?, tap=?, driver=?, dir=?, overlay_kind=?, overlay_path=?, overlay_format=?, overlay_device=?, work_disk=?,
		kernel=?, initrd=?, base_image=?, host_key_pub=?, handle=?, last_error=?, started_at=?, saved_state=?,
		resume_on_start=?, boot_timings=? WHERE name=?`,
		v.Image, v.State, v.VCPUs, v.MemoryMiB, v.DiskSize, v.NAT, v.MAC, v.Tap, v.Driver, v.Dir,
		v.OverlayKind, v.OverlayPath, v.OverlayFormat, v.OverlayDevice, v.WorkDisk, v.Kernel, v.Initrd,
		v.BaseImage, v.HostKeyPub, encodeJSON(v.Handle), v.LastError, fmtTime(v.StartedAt), encodeJSON(v.SavedState),
		v.ResumeOnStart, encodeJSON(v.BootTimings), v.Name)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("vm %q: %w", v.Name, ErrNotFound)
	}
	return nil
}

// GetVM returns the VM called name.
func (s *Store) GetVM(ctx context.Context, name string) (*model.VM, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+vmColumns+` FROM vms v LEFT JOIN addresses a ON a.vm_name = v.name WHERE v.name = ?`, name)
	v, err := scanVM(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("vm %q: %w", name, ErrNotFound)
	}
	return v, err
}

// ListVMs returns all VMs ordered by name.
func (s *Store) ListVMs(ctx context.Context) ([]*model.VM, error) {
	return queryAll(ctx, s.db, scanVM, `SELECT `+vmColumns+` FROM vms v LEFT JOIN addresses a ON a.vm_name = v.name ORDER BY v.name`)
}

// DeleteVM removes the VM record and its address.
func (s *Store) DeleteVM(ctx context.Context, name string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM vms WHERE name = ?`, name)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("vm %q: %w", name, ErrNotFound)
	}
	return nil
}

// UsedAddresses returns every allocated VM address.
func (s *Store) UsedAddresses(ctx context.Context) ([]string, error) {
	return queryAll(ctx, s.db, scanString, `SELECT ip FROM addresses ORDER BY ip`)
}
