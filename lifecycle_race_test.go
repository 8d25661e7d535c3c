package twofa_test

import (
	"testing"

	"github.com/twofa-go/twofa/internal/lifecyclerace"
	"github.com/twofa-go/twofa/memstore"
)

// The lifecycle races on memstore; sqlstore runs the same trials on its
// databases (sqlstore/lifecycle_race_test.go). Each reports its violation
// count and rate; set TWOFA_RACE_TRIALS to run more (or fewer) trials.

// memTrials is the default number of trials on memstore. A trial takes
// about 0.1 ms there (1.5 ms under the race detector), and without the
// lifecycle lock the revocation race showed in one or two trials of a
// thousand, so 1000 trials would often miss it: 5000 find it ten times on
// average and take under a second (8 s with -race).
const memTrials, memTrialsShort = 5000, 1000

// Revoking the last confirmed device while a new one is imported must not
// void what was issued on the strength of the new one, nor report
// EventTwoFactorDisabled once it is in.
func TestRaceRevokeLastDeviceImport(t *testing.T) {
	e := lifecyclerace.New(t, memstore.New())
	lifecyclerace.Run(t, e, lifecyclerace.Trials(t, memTrials, memTrialsShort), lifecyclerace.RevokeImport)
}

// The same, with each item in turn issued first, right after Import.
func TestRaceRevokeLastDeviceImportEachFirst(t *testing.T) {
	e := lifecyclerace.New(t, memstore.New())
	lifecyclerace.Run(t, e, lifecyclerace.Trials(t, memTrials, memTrialsShort), lifecyclerace.RevokeImportEachFirst())
}

// Two concurrent first factors, each followed by Recovery.Generate, must
// not hand out a set of recovery codes that the other silently voids.
func TestRaceFirstFactorsRecoveryCodes(t *testing.T) {
	for _, c := range []struct {
		name    string
		confirm bool
	}{{"ImportImport", false}, {"ConfirmImport", true}} {
		t.Run(c.name, func(t *testing.T) {
			e := lifecyclerace.New(t, memstore.New())
			lifecyclerace.Run(t, e, lifecyclerace.Trials(t, 1000, 100), lifecyclerace.FirstFactors(c.confirm))
		})
	}
}

// Reloading an enrolment page twenty times must never hit the device
// limit, also for an account one device short of it.
func TestEnrollReloadsNeverHitLimit(t *testing.T) {
	for _, confirmed := range []int{0, 1, cfgDefaults(t).Devices.Max - 1} {
		t.Run(confirmedName(confirmed), func(t *testing.T) {
			e := lifecyclerace.New(t, memstore.New())
			lifecyclerace.Run(t, e, 3, lifecyclerace.Reloads(20, confirmed))
		})
	}
}

func confirmedName(n int) string {
	switch n {
	case 0:
		return "NoDevice"
	case 1:
		return "OneDevice"
	}
	return "OneShortOfMax"
}
