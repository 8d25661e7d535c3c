package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/twofa-go/twofa/keyring"
)

func TestKeygen(t *testing.T) {
	a := runT(t, "", "keygen")
	requireOK(t, a)
	b := runT(t, "", "keygen")
	requireOK(t, b)
	require.NotEqual(t, a.stdout, b.stdout, "two keyrings alike")
	for _, r := range []result{a, b} {
		require.True(t, strings.HasSuffix(r.stdout, "\n"))
		line := strings.TrimSuffix(r.stdout, "\n")
		require.NotContains(t, line, "\n", "one line")
		f := strings.Split(line, " ")
		require.Len(t, f, 4, line)
		require.Equal(t, []string{"twofa-keyring-v1", "primary=1"}, f[:2])
		require.True(t, strings.HasPrefix(f[2], "1="))
		require.True(t, strings.HasPrefix(f[3], "digest="))
		require.Len(t, f[2], len("1=")+43)
		require.Len(t, f[3], len("digest=")+43)
		// Copy-paste safe: nothing a shell, .env or YAML would change.
		for _, c := range line {
			require.True(t, c == ' ' || c == '=' || c == '-' || c == '_' ||
				'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9', "character %q", c)
		}
		k, err := keyring.Parse(r.stdout)
		require.NoError(t, err)
		blob, err := k.Seal("alice", "device-1", []byte("secret"))
		require.NoError(t, err)
		pt, err := k.Open(nil, "alice", "device-1", blob)
		require.NoError(t, err)
		require.Equal(t, "secret", string(pt))
	}
	// The two keyrings are independent: one cannot open the other's blobs.
	ka, err := keyring.Parse(a.stdout)
	require.NoError(t, err)
	kb, err := keyring.Parse(b.stdout)
	require.NoError(t, err)
	blob, err := ka.Seal("alice", "device-1", []byte("secret"))
	require.NoError(t, err)
	_, err = kb.Open(nil, "alice", "device-1", blob)
	require.Error(t, err)
}

func TestKeygenBadUsage(t *testing.T) {
	requireUsage(t, runT(t, "", "keygen", "extra"), "keygen", "takes no arguments")
	requireUsage(t, runT(t, "", "keygen", "-size", "3"), "keygen", `flag provided but not defined: "-size"`)
}
