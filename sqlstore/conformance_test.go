package sqlstore_test

import (
	"testing"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/storetest"
)

// TestConformance runs the storetest suite on every backend. Each backend
// is one database shared by all subtests (the suite keeps to accounts of
// its own), as a deployment's database is.
func TestConformance(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		s := b.open(t)
		storetest.Run(t, func(*testing.T) twofa.Store { return s })
	})
}

// TestConformanceFresh runs the suite with a fresh database per subtest on
// the in-memory SQLite backends, where that is cheap.
func TestConformanceFresh(t *testing.T) {
	for _, b := range []backend{sqliteShared(), sqliteSingle()} {
		t.Run(b.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) twofa.Store { return b.open(t) })
		})
	}
}
