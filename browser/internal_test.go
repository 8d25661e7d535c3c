package browser

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/twofa-go/twofa"
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

type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }

// TestRevokeAllDependent checks the method the installation calls as a
// twofa.Dependent (PasswordChanged, two-factor authentication turned off):
// it revokes at the Clock's now, reports a count in an event only when
// there was one, and wraps a store error.
func TestRevokeAllDependent(t *testing.T) {
	ctx := context.Background()
	var got []twofa.Event
	hook := func(_ context.Context, e twofa.Event) { got = append(got, e) }
	now := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)

	st := &revokeOnly{n: 3}
	m := &Manager{st: st, clock: fixedClock(now), events: hook}
	var _ twofa.Dependent = m
	n, err := m.RevokeAll(ctx, "alice")
	if n != 3 || err != nil {
		t.Fatalf("RevokeAll = %d, %v; want 3, nil", n, err)
	}
	if !st.at.Equal(now) {
		t.Errorf("revoked at %v: not the Clock's now", st.at)
	}
	if len(got) != 1 || got[0].Type != EventRevokedAll || got[0].Count != 3 || got[0].Account != "alice" || !got[0].Time.Equal(st.at) {
		t.Errorf("events %+v, want one EventRevokedAll with Count 3", got)
	}

	got = nil
	st.n = 0
	if n, err := m.RevokeAll(ctx, "alice"); n != 0 || err != nil || len(got) != 0 {
		t.Errorf("nothing to revoke: %d, %v, events %v; want 0, nil, none", n, err, got)
	}

	boom := errors.New("boom")
	st.err = boom
	if _, err := m.RevokeAll(ctx, "alice"); !errors.Is(err, boom) || len(got) != 0 {
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
		raw, got := parseToken(in)
		if got != ok {
			t.Errorf("parseToken(%q) = %v, want %v", in, got, ok)
		}
		if !got && raw != ([tokenBytes]byte{}) {
			t.Errorf("parseToken(%q) refused but returned bytes", in)
		}
	}
}

// TestDigestPurpose pins the label: stored digests depend on it.
func TestDigestPurpose(t *testing.T) {
	if DigestPurpose != "browser-token" {
		t.Fatalf("DigestPurpose = %q, want browser-token", DigestPurpose)
	}
}
