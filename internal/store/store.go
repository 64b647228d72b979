// Package store keeps bangerd's state (VMs, images, addresses) in SQLite
// through modernc.org/sqlite (no cgo). The schema is versioned: migrations
// run in order at Open, each in its own transaction.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// ErrNotFound is returned when a named record does not exist.
var ErrNotFound = errors.New("not found")

// ErrExists is returned when a record with the same name or address exists.
var ErrExists = errors.New("already exists")

// ErrNewerSchema is returned by Open for a database written by a newer
// banger; the file is left untouched.
var ErrNewerSchema = errors.New("written by a newer banger")

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
	// Checked read-only before the real open: setting the journal mode alone
	// would rewrite the header of a database this code must not touch.
	if err := checkNotNewer(ctx, path); err != nil {
		return nil, err
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
		if errors.Is(err, ErrNewerSchema) {
			return nil, err
		}
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
	// 2: suspend/resume (saved state, resume-at-start record) and snapshots.
	`ALTER TABLE vms ADD COLUMN saved_state TEXT NOT NULL DEFAULT '';
	ALTER TABLE vms ADD COLUMN resume_on_start INTEGER NOT NULL DEFAULT 0;
	CREATE TABLE snapshots (
		vm_name    TEXT NOT NULL REFERENCES vms(name) ON DELETE CASCADE,
		name       TEXT NOT NULL,
		dir        TEXT NOT NULL,
		memory     INTEGER NOT NULL DEFAULT 0,
		method     TEXT NOT NULL DEFAULT '',
		allocated  INTEGER NOT NULL DEFAULT 0,
		meta       TEXT NOT NULL DEFAULT '',
		created_at TEXT NOT NULL,
		PRIMARY KEY (vm_name, name)
	);`,
	// 3: timings of each VM's last start (JSON, see VM.BootTimings).
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
		return newerError(s.path, cur)
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

// newerError explains a database whose schema version v is above this
// code's.
func newerError(path string, v int) error {
	return fmt.Errorf("state database %s was %w (schema version %d; this banger knows up to %d) and was left unchanged; "+
		"upgrade banger, or set BANGER_STATE_DIR to another directory to start fresh", path, ErrNewerSchema, v, len(migrations))
}

// checkNotNewer opens an existing database read-only and refuses it when
// its schema version is above this code's.
func checkNotNewer(ctx context.Context, path string) error {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	// Without a WAL file, immutable=1 reads the file without creating the
	// -wal and -shm files a read-only WAL connection would leave behind.
	// With one (a daemon is running or was not shut down cleanly), read
	// through it: the newest committed version may be in it.
	mode := "immutable=1"
	if _, err := os.Stat(path + "-wal"); err == nil {
		mode = "mode=ro&_pragma=busy_timeout(5000)"
	}
	db, err := sql.Open("sqlite", "file:"+path+"?"+mode)
	if err != nil {
		return fmt.Errorf("open state database %s: %w", path, err)
	}
	defer db.Close()
	var tables int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`).Scan(&tables); err != nil {
		return fmt.Errorf("read state database %s: %w; is it a banger database?", path, err)
	}
	if tables == 0 {
		return nil
	}
	var v int
	if err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return fmt.Errorf("read schema version of %s: %w", path, err)
	}
	if v > len(migrations) {
		return newerError(path, v)
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
