package sqlstore_test

import (
	"testing"

	"github.com/twofa-go/twofa/internal/lifecyclerace"
)

// The lifecycle races of the root package's lifecycle_race_test.go, on
// every backend: one installation, its trusted browsers attached, on one
// migrated store; each trial uses a fresh account. Set TWOFA_RACE_TRIALS
// to run more (or fewer) trials.

// raceTrials returns the default number of trials of the revocation race
// on a database. On two cores a trial takes about 1 ms on SQLite in
// memory and 10 to 20 ms on a SQLite file or PostgreSQL, and the race
// shows in a fifth to nearly all of the trials.
func raceTrials(t *testing.T) int { return lifecyclerace.Trials(t, 1000, 100) }

func TestRaceRevokeLastDeviceImport(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		e := lifecyclerace.New(t, b.open(t))
		lifecyclerace.Run(t, e, raceTrials(t), lifecyclerace.RevokeImport)
	})
}

func TestRaceRevokeLastDeviceImportEachFirst(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		e := lifecyclerace.New(t, b.open(t))
		lifecyclerace.Run(t, e, raceTrials(t), lifecyclerace.RevokeImportEachFirst())
	})
}

func TestRaceFirstFactorsRecoveryCodes(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		for _, c := range []struct {
			name    string
			confirm bool
		}{{"ImportImport", false}, {"ConfirmImport", true}} {
			t.Run(c.name, func(t *testing.T) {
				e := lifecyclerace.New(t, b.open(t))
				// No narrow window here: on current code every trial breaks the
				// invariant, so 200 trials are enough on every backend.
				lifecyclerace.Run(t, e, lifecyclerace.Trials(t, 200, 50), lifecyclerace.FirstFactors(c.confirm))
			})
		}
	})
}

func TestEnrollReloadsNeverHitLimit(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		e := lifecyclerace.New(t, b.open(t))
		for _, confirmed := range []int{0, 10 - 1 /* the default Devices.Max, less one */} {
			lifecyclerace.Run(t, e, 2, lifecyclerace.Reloads(20, confirmed))
		}
	})
}
