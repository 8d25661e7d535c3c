package browser_test

import "github.com/twofa-go/twofa"

// errOf drops the twofa.Change of a factor change, for assertions on its
// error.
func errOf(_ twofa.Change, err error) error { return err }
