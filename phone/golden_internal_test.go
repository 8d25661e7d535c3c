package phone

import (
	"encoding/hex"
	"testing"
	"time"
)

// TestStateGolden pins the bytes the MACs of a phone number and of a
// challenge are computed over: a change would make every stored one fail
// authentication.
func TestStateGolden(t *testing.T) {
	ph := Record{ID: "p1", Account: "alice", Number: Number{E164: "+14155550142", CountryCode: 1},
		State: Trusted, ExpiresAt: time.Unix(1_800_000_000, 7)}
	c := Challenge{ID: "c1", Account: "alice", PhoneID: "p1", Purpose: PurposeSignIn, Channel: SMS,
		Digest: []byte{9, 8, 7}, ExpiresAt: time.Unix(1_800_000_600, 0), Attempts: 2}
	for _, tc := range []struct {
		name, got, want string
	}{
		{"phone", hex.EncodeToString(ph.state()), "000c2b313431353535353031343200000000000000010218fae27693b40007"},
		{"challenge", hex.EncodeToString(c.state()), "000270310201000309080718fae302467d70000000000000000002"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s state = %s, want %s", tc.name, tc.got, tc.want)
		}
	}
}
