package twofa_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/twofa-go/twofa/phone"
	"github.com/twofa-go/twofa/twofatest"
)

// The root's tests of what package phone attaches (a Factor: its JSON
// next to the other Info types, its codes next to the other typed input)
// use these; package phone tests the rest.

// Fictional numbers (the 555-01XX range is reserved for fiction).
var (
	phoneUS = phone.Number{E164: "+14155550142", CountryCode: 1}
	phoneUK = phone.Number{E164: "+447700900123", CountryCode: 44}
)

// oobEnv is an Env whose phones' sign-in codes are a second factor.
func oobEnv(t *testing.T) *twofatest.Env {
	env := twofatest.New(t)
	env.EnableOutOfBand()
	return env
}

// addPhone adds n to account and sends it its verification code, which it
// returns.
func addPhone(t *testing.T, env *twofatest.Env, account string, n phone.Number) (phone.Info, string) {
	t.Helper()
	p, err := env.Phones.Add(t.Context(), account, n)
	require.NoError(t, err)
	_, err = env.Phones.SendCode(t.Context(), account, p.ID, phone.SMS)
	require.NoError(t, err)
	return p, env.Sender.Code(n.E164)
}
