package twofa

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOneResolvedConfig: every part of an installation reads the same
// resolved Config, so none can disagree with another.
func TestOneResolvedConfig(t *testing.T) {
	t.Parallel()
	type stubStore struct{ Store }     // New calls no store method
	type stubKeyring struct{ Keyring } // nor a keyring method
	tf, err := New(Config{
		Store: stubStore{}, Keyring: stubKeyring{}, Issuer: "Example",
	})
	require.NoError(t, err)
	for name, c := range map[string]*Config{
		"Devices":      tf.Devices.c,
		"Recovery":     tf.Recovery.c,
		"AppPasswords": tf.AppPasswords.c,
	} {
		assert.Same(t, tf.c, c, "%s holds a Config of its own", name)
	}
}

// TestSealBindingForm pins the binding every stored secret is sealed with:
// it must stay byte for byte what it was ("%s/%v/%v/%d/%d").
func TestSealBindingForm(t *testing.T) {
	t.Parallel()
	for _, d := range []Device{
		{ID: "abc", Type: TypeTOTP, Algorithm: SHA1, Digits: 6, Period: 30 * time.Second},
		{ID: "x.y-z_0", Type: TypeHOTP, Algorithm: SHA512, Digits: 8},
		{ID: strings.Repeat("a", MaxIDLen), Type: TypeTOTP, Algorithm: SHA256, Digits: 7, Period: 86400 * time.Second},
		{ID: "odd", Type: Type(9), Algorithm: Algorithm(9), Digits: -1, Period: -time.Second},
		{},
	} {
		want := fmt.Sprintf("%s/%v/%v/%d/%d", d.ID, d.Type, d.Algorithm, d.Digits, d.Period/time.Second)
		assert.Equal(t, want, d.sealBinding())
	}
}
