package sqlstore

import (
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twofa-go/twofa"
)

func TestU64Order(t *testing.T) {
	vs := []uint64{0, 1, 2, 1<<31 - 1, 1 << 32, 1<<63 - 2, 1<<63 - 1, 1 << 63, 1<<63 + 1, 1<<64 - 2, 1<<64 - 1}
	for i, v := range vs {
		if got := fromU64(u64(v)); got != v {
			t.Errorf("fromU64(u64(%d)) = %d", v, got)
		}
		if i > 0 && u64(vs[i-1]) >= u64(v) {
			t.Errorf("u64(%d) = %d is not below u64(%d) = %d", vs[i-1], u64(vs[i-1]), v, u64(v))
		}
	}
	if u64(0) != math.MinInt64 || u64(math.MaxUint64) != math.MaxInt64 {
		t.Error("u64 does not map the ends of the ranges onto each other")
	}
}

func TestNanosRoundTrip(t *testing.T) {
	for _, tm := range []time.Time{
		{},
		time.Unix(0, 0),
		time.Unix(-1, 999999999),
		time.Unix(0, math.MinInt64+1),
		time.Unix(0, math.MaxInt64),
		time.Date(1969, 12, 31, 23, 59, 59, 1, time.UTC),
		time.Date(2031, 5, 6, 7, 8, 9, 123456789, time.FixedZone("x", 3600)),
	} {
		n, err := nanos(tm)
		if err != nil {
			t.Errorf("nanos(%v): %v", tm, err)
			continue
		}
		got := fromNanos(n)
		if !got.Equal(tm) || got.IsZero() != tm.IsZero() {
			t.Errorf("%v → %d → %v", tm, n, got)
		}
		if b := bound(tm); b != n {
			t.Errorf("bound(%v) = %d, nanos %d", tm, b, n)
		}
	}
	if n, _ := nanos(time.Time{}); n != noTime || fromNanos(noTime) != (time.Time{}) {
		t.Errorf("zero Time ↔ %d", n)
	}
	for _, tm := range []time.Time{
		time.Unix(0, math.MinInt64), // noTime's instant, which stands for the zero Time
		time.Unix(0, math.MinInt64).Add(-1),
		time.Unix(0, math.MaxInt64).Add(1),
		time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
	} {
		if n, err := nanos(tm); err == nil {
			t.Errorf("nanos(%v) = %d, want an error", tm, n)
		}
	}
	if bound(time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)) != math.MaxInt64 || bound(time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC)) != noTime {
		t.Error("bound does not clamp")
	}
}

func TestMigrationFiles(t *testing.T) {
	var versions [][]int
	for _, d := range []Dialect{SQLite, Postgres} {
		ms, err := migrations(d)
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) != SchemaVersion {
			t.Errorf("%v: %d migrations, SchemaVersion is %d", d, len(ms), SchemaVersion)
		}
		var vs []int
		for _, m := range ms {
			vs = append(vs, m.version)
			for _, stmt := range m.stmts {
				if strings.Contains(stmt, ";") || strings.Contains(stmt, "--") {
					t.Errorf("%v %s: statement not split: %q", d, m.name, stmt)
				}
				if !strings.Contains(stmt, "{{prefix}}") {
					t.Errorf("%v %s: statement without {{prefix}}: %q", d, m.name, stmt)
				}
			}
		}
		versions = append(versions, vs)
	}
	if !slices.Equal(versions[0], versions[1]) {
		t.Errorf("the dialects' migrations differ: %v", versions)
	}
}

func TestSQLRewrite(t *testing.T) {
	s, err := New(nilDB, SQLite, Options{TablePrefix: "p_"})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.sql("SELECT $1, $12 FROM {{prefix}}t WHERE a = '$'"); got != "SELECT ?1, ?12 FROM p_t WHERE a = '$'" {
		t.Errorf("SQLite rewrite: %s", got)
	}
	s, _ = New(nilDB, Postgres, Options{})
	if got := s.sql("SELECT $1 FROM {{prefix}}t"); got != "SELECT $1 FROM twofa_t" {
		t.Errorf("PostgreSQL rewrite: %s", got)
	}
}

// codeErr and stateErr imitate modernc.org/sqlite's *Error and pgconn's
// *PgError.
type codeErr int

func (e codeErr) Error() string { return fmt.Sprintf("sqlite error %d", int(e)) }
func (e codeErr) Code() int     { return int(e) }

type stateErr string

func (e stateErr) Error() string    { return "pg error " + string(e) }
func (e stateErr) SQLState() string { return string(e) }

func TestUniqueViolation(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{codeErr(2067), true},
		{codeErr(1555), true},
		{codeErr(19), false},   // SQLITE_CONSTRAINT, some other kind
		{codeErr(787), false},  // SQLITE_CONSTRAINT_FOREIGNKEY
		{codeErr(1299), false}, // SQLITE_CONSTRAINT_NOTNULL
		{stateErr("23505"), true},
		{stateErr("23503"), false},
		{fmt.Errorf("exec: %w", stateErr("23505")), true},
		{errors.New("UNIQUE constraint failed: t.id"), true},
		{errors.New(`ERROR: duplicate key value violates unique constraint "x" (SQLSTATE 23505)`), true},
		{errors.New("disk I/O error"), false},
	} {
		err := wrap("op", tt.err)
		if got := errors.Is(err, twofa.ErrDuplicate); got != tt.want {
			t.Errorf("%v: ErrDuplicate %v, want %v", tt.err, got, tt.want)
		}
		if !errors.Is(err, tt.err) {
			t.Errorf("%v: cause not wrapped", tt.err)
		}
	}
	if wrap("op", nil) != nil {
		t.Error("wrap(nil) != nil")
	}
}

// nilDB is a *sql.DB that New accepts and nothing uses.
var nilDB = new(sql.DB)

func TestIsBusy(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{codeErr(5), true},   // SQLITE_BUSY
		{codeErr(517), true}, // SQLITE_BUSY_SNAPSHOT
		{codeErr(6), false},  // SQLITE_LOCKED
		{fmt.Errorf("x: %w", codeErr(5)), true},
		{errors.New("database is locked (5) (SQLITE_BUSY)"), true},
		{stateErr("40P01"), false},
	} {
		if got := isBusy(tt.err); got != tt.want {
			t.Errorf("isBusy(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
