package stats

import (
	"math"
	"testing"
)

func inDelta(t *testing.T, want, got, delta float64) {
	t.Helper()
	if math.Abs(want-got) > delta {
		t.Errorf("got %v, want %v ± %v", got, want, delta)
	}
}

func TestChiSquare(t *testing.T) {
	// Critical values of the chi-square distribution (NIST/SEMATECH
	// e-Handbook, Section 1.3.6.7.4).
	inDelta(t, 0.05, ChiSquareP(44.985, 31), 1e-4)
	inDelta(t, 0.01, ChiSquareP(52.191, 31), 1e-4)
	inDelta(t, 0.95, ChiSquareP(19.281, 31), 1e-4)
	inDelta(t, 0.05, ChiSquareP(16.919, 9), 1e-4)
	inDelta(t, 0.5, ChiSquareP(30.336, 31), 1e-3)
	if p := ChiSquareP(200, 31); p >= 1e-20 {
		t.Errorf("ChiSquareP(200, 31) = %g, want < 1e-20", p)
	}
	alternating := make([]int, 32)
	for i := 0; i < 32; i += 2 {
		alternating[i] = 2
	}
	if x := ChiSquare(alternating); x != 32 {
		t.Errorf("ChiSquare(alternating) = %v, want 32", x)
	}
}

func TestChiSquareNineDegrees(t *testing.T) {
	// Chi-square critical values with 9 degrees of freedom (standard
	// tables): P(X² > 16.919) = 0.05, P(X² > 21.666) = 0.01,
	// P(X² > 27.877) = 0.001.
	for _, tc := range []struct{ x, p float64 }{{16.919, 0.05}, {21.666, 0.01}, {27.877, 0.001}, {0, 1}} {
		inDelta(t, tc.p, ChiSquareP(tc.x, 9), tc.p*1e-3+1e-12)
	}
}
