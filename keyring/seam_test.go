package keyring_test

import (
	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/keyring"
)

// *Keyring is the twofa.Keyring of an installation. (Package keyring does
// not import twofa; only its tests do.)
var _ twofa.Keyring = (*keyring.Keyring)(nil)
