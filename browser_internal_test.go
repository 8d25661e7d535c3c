package twofa

import (
	"context"
	"errors"
	"testing"
	"time"
)

// revokeOnly is a Store whose only working method is RevokeBrowsers.
type revokeOnly struct {
	Store
	n   int
	err error
	at  time.Time
}

func (s *revokeOnly) RevokeBrowsers(_ context.Context, _ string, at time.Time) (int, error) {
	s.at = at
	return s.n, s.err
}

// TestRevokeBrowsersTrigger checks the hook PasswordChanged and
// disableSecondFactor call: it works on an unresolved Config (no Clock),
// reports a count in an event
// only when there was one, and wraps a store error.
func TestRevokeBrowsersTrigger(t *testing.T) {
	ctx := context.Background()
	var got []Event
	hook := func(_ context.Context, e Event) { got = append(got, e) }

	st := &revokeOnly{n: 3}
	before := time.Now()
	n, err := Config{Store: st, Events: hook}.revokeBrowsers(ctx, "alice")
	if n != 3 || err != nil {
		t.Fatalf("revokeBrowsers = %d, %v; want 3, nil", n, err)
	}
	if st.at.Before(before) || time.Since(st.at) > time.Minute {
		t.Errorf("revoked at %v: not the system clock's now", st.at)
	}
	if len(got) != 1 || got[0].Type != EventBrowsersRevoked || got[0].Count != 3 || got[0].Account != "alice" || !got[0].Time.Equal(st.at) {
		t.Errorf("events %+v, want one EventBrowsersRevoked with Count 3", got)
	}

	got = nil
	st.n = 0
	if n, err := (Config{Store: st, Events: hook}).revokeBrowsers(ctx, "alice"); n != 0 || err != nil || len(got) != 0 {
		t.Errorf("nothing to revoke: %d, %v, events %v; want 0, nil, none", n, err, got)
	}

	boom := errors.New("boom")
	st.err = boom
	if _, err := (Config{Store: st, Events: hook}).revokeBrowsers(ctx, "alice"); !errors.Is(err, boom) || len(got) != 0 {
		t.Errorf("store error: %v, events %v; want it wrapped, no event", err, got)
	}
}

// TestParseBrowserToken checks the parser at its edges.
func TestParseBrowserToken(t *testing.T) {
	for in, ok := range map[string]bool{
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA":  true,
		"___________________________________________":  false, // last char has non-zero unused bits
		"__________________________________________w":  true,
		"__________________________________________x":  false,
		"-------------------------------------------":  false,
		"------------------------------------------g":  true,
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA":   false,
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA": false,
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=":  false,
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n": false,
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+":  false,
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/":  false,
	} {
		raw, got := parseBrowserToken(in)
		if got != ok {
			t.Errorf("parseBrowserToken(%q) = %v, want %v", in, got, ok)
		}
		if !got && raw != ([browserTokenBytes]byte{}) {
			t.Errorf("parseBrowserToken(%q) refused but returned bytes", in)
		}
	}
}
