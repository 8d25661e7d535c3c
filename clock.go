package twofa

import "time"

// Clock tells the time. Every manager takes one, so tests can move time by
// hand (twofatest.Clock); nil means the system clock.
type Clock interface {
	Now() time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func clockOrSystem(c Clock) Clock {
	if c == nil {
		return systemClock{}
	}
	return c
}
