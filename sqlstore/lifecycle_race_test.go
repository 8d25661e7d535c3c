package sqlstore_test

import (
	"testing"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/internal/lifecyclerace"
)

// The lifecycle races of the root package's lifecycle_race_test.go, on
// every backend: one installation, its trusted browsers attached, on one
// migrated store; each trial uses a fresh account. Set TWOFA_RACE_TRIALS
// to run more (or fewer) trials.

// raceTrials is the default number of trials on a database: on two cores
// 1000 trials of a test take from under 1 s (SQLite in memory) to about
// 13 s (a SQLite file; PostgreSQL), and the revocation race shows in
// between one trial of a thousand (SQLite in memory) and one of four.
const raceTrials, raceTrialsShort = 1000, 100

func TestRaceRevokeLastDeviceImport(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		e := lifecyclerace.New(t, b.open(t))
		lifecyclerace.Run(t, e, lifecyclerace.Trials(t, raceTrials, raceTrialsShort), lifecyclerace.RevokeImport)
	})
}

func TestRaceRevokeLastDeviceImportEachFirst(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		e := lifecyclerace.New(t, b.open(t))
		lifecyclerace.Run(t, e, lifecyclerace.Trials(t, raceTrials, raceTrialsShort), lifecyclerace.RevokeImportEachFirst())
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
				lifecyclerace.Run(t, e, lifecyclerace.Trials(t, raceTrials, raceTrialsShort), lifecyclerace.FirstFactors(c.confirm))
			})
		}
	})
}

func TestEnrollReloadsNeverHitLimit(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		e := lifecyclerace.New(t, b.open(t))
		for _, confirmed := range []int{0, twofa.DefaultMaxDevices - 1} {
			lifecyclerace.Run(t, e, 2, lifecyclerace.Reloads(20, confirmed))
		}
	})
}
