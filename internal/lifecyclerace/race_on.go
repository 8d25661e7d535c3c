//go:build race

package lifecyclerace

// raceDetector reports whether the race detector is on, which makes a
// trial ten or more times slower.
const raceDetector = true
