package browser

import (
	"encoding/hex"
	"testing"
	"time"
)

// TestStateGolden pins the bytes a trusted browser's MAC is computed
// over: a change would make every stored browser fail authentication.
func TestStateGolden(t *testing.T) {
	r := Record{ID: "b1", Account: "alice", Label: "Firefox", Digest: []byte{1, 2, 3, 0xff},
		CreatedAt: time.Unix(1_800_000_000, 0), ExpiresAt: time.Unix(1_802_592_000, 5), LastUsedAt: time.Unix(1_800_000_100, 0)}
	const want = "0004010203ff190417df9af60005"
	if got := hex.EncodeToString(r.state()); got != want {
		t.Errorf("state = %s, want %s", got, want)
	}
}
