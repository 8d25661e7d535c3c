package memstore_test

import (
	"testing"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/memstore"
	"github.com/twofa-go/twofa/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) twofa.Store { return memstore.New() })
}

func TestZeroValue(t *testing.T) {
	storetest.Run(t, func(t *testing.T) twofa.Store { return new(memstore.Store) })
}

// TestShared runs the suite against one store for every subtest, as a
// shared database would be.
func TestShared(t *testing.T) {
	s := memstore.New()
	storetest.Run(t, func(t *testing.T) twofa.Store { return s })
}
