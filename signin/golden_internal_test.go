package signin

import (
	"encoding/hex"
	"testing"
	"time"
)

// TestStateGolden pins the bytes a pending sign-in's MAC is computed
// over: a change would make every stored sign-in fail authentication.
func TestStateGolden(t *testing.T) {
	r := Record{ID: "s1", Account: "alice", Digest: []byte{1, 2, 3}, CreatedAt: time.Unix(1_800_000_000, 0),
		ExpiresAt: time.Unix(1_800_000_300, 0), Label: "Firefox on Linux", IP: "203.0.113.7", Attempts: 3}
	const want = "0301020318fae27693b4000018fae2bc6d18b8001046697265666f78206f6e204c696e75780b3230332e302e3131332e370000000000000003"
	if got := hex.EncodeToString(r.state()); got != want {
		t.Errorf("state = %s, want %s", got, want)
	}
}
