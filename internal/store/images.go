package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Image is the persisted record of a read-only base image.
type Image struct {
	Name      string
	Path      string
	Kernel    string
	Initrd    string
	Modules   string
	Packages  []string
	Size      int64
	Builtin   bool
	CreatedAt time.Time
}

const imageColumns = `name, path, kernel, initrd, modules, packages, size, builtin, created_at`

func scanImage(row interface{ Scan(...any) error }) (*Image, error) {
	var im Image
	var pkgs, created string
	if err := row.Scan(&im.Name, &im.Path, &im.Kernel, &im.Initrd, &im.Modules, &pkgs, &im.Size, &im.Builtin, &created); err != nil {
		return nil, err
	}
	if pkgs != "" {
		im.Packages = strings.Split(pkgs, ",")
	}
	im.CreatedAt, _ = time.Parse(time.RFC3339Nano, created)
	return &im, nil
}

// PutImage inserts or replaces an image record.
func (s *Store) PutImage(ctx context.Context, im *Image) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO images (`+imageColumns+`) VALUES (?,?,?,?,?,?,?,?,?)
		ON CONFLICT(name) DO UPDATE SET path=excluded.path, kernel=excluded.kernel, initrd=excluded.initrd,
		modules=excluded.modules, packages=excluded.packages, size=excluded.size, builtin=excluded.builtin`,
		im.Name, im.Path, im.Kernel, im.Initrd, im.Modules, strings.Join(im.Packages, ","), im.Size, im.Builtin, fmtTime(im.CreatedAt))
	return err
}

// InsertImage adds an image, failing with ErrExists when the name is taken.
func (s *Store) InsertImage(ctx context.Context, im *Image) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO images (`+imageColumns+`) VALUES (?,?,?,?,?,?,?,?,?)`,
		im.Name, im.Path, im.Kernel, im.Initrd, im.Modules, strings.Join(im.Packages, ","), im.Size, im.Builtin, fmtTime(im.CreatedAt))
	if err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed") {
		return fmt.Errorf("image %q: %w", im.Name, ErrExists)
	}
	return err
}

// GetImage returns the image called name.
func (s *Store) GetImage(ctx context.Context, name string) (*Image, error) {
	im, err := scanImage(s.db.QueryRowContext(ctx, `SELECT `+imageColumns+` FROM images WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("image %q: %w", name, ErrNotFound)
	}
	return im, err
}

// ListImages returns all images ordered by name.
func (s *Store) ListImages(ctx context.Context) ([]*Image, error) {
	return queryAll(ctx, s.db, scanImage, `SELECT `+imageColumns+` FROM images ORDER BY name`)
}

// DeleteImage removes an image record; it fails while a VM uses the image.
func (s *Store) DeleteImage(ctx context.Context, name string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM images WHERE name = ?`, name)
	if err != nil {
		if strings.Contains(err.Error(), "FOREIGN KEY") {
			return fmt.Errorf("image %q is used by a VM; delete the VM first", name)
		}
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("image %q: %w", name, ErrNotFound)
	}
	return nil
}

// VMsUsingImage lists VM names whose image is name.
func (s *Store) VMsUsingImage(ctx context.Context, name string) ([]string, error) {
	return queryAll(ctx, s.db, scanString, `SELECT name FROM vms WHERE image = ? ORDER BY name`, name)
}
