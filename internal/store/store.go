// Package store keeps bangerd's state (VMs, images, addresses) in SQLite
// through modernc.org/sqlite (no cgo). The schema is versioned: migrations
// run in order at Open, each in its own transaction.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// ErrNotFound is returned when a named record does not exist.
var ErrNotFound = errors.New("not found")

// ErrExists is returned when a record with the same name or address exists.
var ErrExists = errors.New("already exists")

// Store is the state database.
type Store struct {
	db   *sql.DB
	path string
}

// Open opens (creating if needed) the database at path and migrates it to
// the latest schema.
func Open(ctx context.Context, path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create state dir: %w", err)
	}
	dsn := "file:" + path + "?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_pragma=synchronous(NORMAL)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open state database %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	s := &Store{db: db, path: path}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate state database %s: %w; move it aside to start fresh", path, err)
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Path returns the database file path.
func (s *Store) Path() string { return s.path }

// SchemaVersion returns the applied schema version.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	return v, err
}

// Tx runs fn in a transaction, committing when it returns nil.
func (s *Store) Tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// migrations are applied in order; never edit one that has shipped.
var migrations = []string{
	// 1: initial schema.
	`CREATE TABLE images (
		name       TEXT PRIMARY KEY,
		path       TEXT NOT NULL,
		kernel     TEXT NOT NULL DEFAULT '',
		initrd     TEXT NOT NULL DEFAULT '',
		modules    TEXT NOT NULL DEFAULT '',
		packages   TEXT NOT NULL DEFAULT '',
		size       INTEGER NOT NULL DEFAULT 0,
		builtin    INTEGER NOT NULL DEFAULT 0,
		created_at TEXT NOT NULL
	);
	CREATE TABLE vms (
		name           TEXT PRIMARY KEY,
		image          TEXT NOT NULL REFERENCES images(name),
		state          TEXT NOT NULL,
		vcpus          INTEGER NOT NULL,
		memory_mib     INTEGER NOT NULL,
		disk_size      INTEGER NOT NULL,
		nat            INTEGER NOT NULL DEFAULT 0,
		mac            TEXT NOT NULL,
		tap            TEXT NOT NULL UNIQUE,
		driver         TEXT NOT NULL DEFAULT '',
		dir            TEXT NOT NULL,
		overlay_kind   TEXT NOT NULL DEFAULT '',
		overlay_path   TEXT NOT NULL DEFAULT '',
		overlay_format TEXT NOT NULL DEFAULT '',
		overlay_device TEXT NOT NULL DEFAULT '',
		work_disk      TEXT NOT NULL DEFAULT '',
		kernel         TEXT NOT NULL DEFAULT '',
		initrd         TEXT NOT NULL DEFAULT '',
		base_image     TEXT NOT NULL DEFAULT '',
		host_key_pub   TEXT NOT NULL DEFAULT '',
		handle         TEXT NOT NULL DEFAULT '',
		last_error     TEXT NOT NULL DEFAULT '',
		created_at     TEXT NOT NULL,
		started_at     TEXT NOT NULL DEFAULT ''
	);
	CREATE TABLE addresses (
		ip      TEXT PRIMARY KEY,
		vm_name TEXT NOT NULL UNIQUE REFERENCES vms(name) ON DELETE CASCADE
	);`,
	// 2: timings of each VM's last start (JSON, see VM.BootTimings).
	`ALTER TABLE vms ADD COLUMN boot_timings TEXT NOT NULL DEFAULT '';`,
}

func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)`); err != nil {
		return err
	}
	cur, err := s.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if cur > len(migrations) {
		return fmt.Errorf("database schema version %d is newer than this bangerd supports (%d); upgrade banger", cur, len(migrations))
	}
	for v := cur + 1; v <= len(migrations); v++ {
		err := s.Tx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, migrations[v-1]); err != nil {
				return fmt.Errorf("migration %d: %w", v, err)
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations(version) VALUES (?)`, v)
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// queryAll runs query and scans every row with scan.
func queryAll[T any](ctx context.Context, db *sql.DB, scan func(interface{ Scan(...any) error }) (T, error), query string, args ...any) ([]T, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// scanString scans a one-column text row.
func scanString(row interface{ Scan(...any) error }) (string, error) {
	var v string
	err := row.Scan(&v)
	return v, err
}
