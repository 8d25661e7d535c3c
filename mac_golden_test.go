package twofa_test

import (
	"encoding/hex"
	"testing"
	"time"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/keyring"
)

// goldenKeyring is a keyring of fixed keys: sealing key 7 (primary) and a
// digest key, each byte i of key b being b^i.
func goldenKeyring(t *testing.T) *keyring.Keyring {
	t.Helper()
	key := func(b byte) []byte {
		k := make([]byte, keyring.KeySize)
		for i := range k {
			k[i] = b ^ byte(i)
		}
		return k
	}
	kr, err := keyring.New(7, map[keyring.KeyID][]byte{7: key(0x5a)}, key(0xd1))
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// TestMACGolden pins the bytes of record MACs, as the schema-10 code made
// them: every stored record carries one, so a change of the state's
// encoding or of the MAC would make every record of every database fail
// authentication after an upgrade.
func TestMACGolden(t *testing.T) {
	kr := goldenKeyring(t)
	d := twofa.Device{
		ID: "01hzy3k8q2w5e7r9t1y3u5i7o9", Account: "alice@example.com", Type: twofa.TypeTOTP,
		Algorithm: twofa.SHA256, Digits: 8, Period: 30 * time.Second, State: twofa.DeviceConfirmed,
		Counter: 59_999_999, Drift: -2, ResyncStep: 60_000_123, ResyncDrift: 3, Attempts: 1,
		ExpiresAt: time.Unix(1_900_000_000, 123_456_789),
	}
	pending := twofa.Device{ID: "p1", Account: "bob", Type: twofa.TypeHOTP, Algorithm: twofa.SHA1,
		Digits: 6, State: twofa.DevicePending, Counter: 0}
	macs := map[string]func() ([]byte, error){
		"device":         func() ([]byte, error) { return twofa.DeviceMAC(kr, d) },
		"pending device": func() ([]byte, error) { return twofa.DeviceMAC(kr, pending) },
		"state": func() ([]byte, error) {
			return twofa.StateMAC(kr, "carol", "browser", "b-9", []byte("any state \x00\xff"))
		},
		"empty state": func() ([]byte, error) { return twofa.StateMAC(kr, "c", "phone", "x", nil) },
	}
	want := map[string]string{
		"device":         "01000000079382adaf31592e27fc47e06e9cd32ee72d005930a40c57b8c4a670d165553e7d",
		"pending device": "0100000007ad2132e7bdbc753c1a8418fb401c8eee5e81af7d0a354453b74bbf048cf62c38",
		"state":          "0100000007b1bfbd22c72a0277e3fb43fff1e0486b5673cfe12839e97a38ae8f6b6c67ca24",
		"empty state":    "01000000074d93f86b277fba0802bb1bacdfdc947641f74d2bdb17d2609fb6b56e9a7d19e1",
	}
	for name, f := range macs {
		got, err := f()
		if err != nil {
			t.Fatal(name, err)
		}
		if hex.EncodeToString(got) != want[name] {
			t.Errorf("%s MAC = %x, want %s", name, got, want[name])
		}
	}
}
