package twofahttp_test

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestREADMEWiring: the README's "Wiring the sign-in flow" shows the
// routes function of ExampleSignIn as it is, so that the code a newcomer
// copies compiles and does what the example's output says.
func TestREADMEWiring(t *testing.T) {
	src, err := os.ReadFile("signin_example_test.go")
	require.NoError(t, err)
	readme, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	s := string(src)
	i := strings.Index(s, "func routes(")
	require.GreaterOrEqual(t, i, 0)
	j := strings.Index(s[i:], "\n}\n")
	require.Greater(t, j, 0)
	fn := s[i : i+j+3]
	_, section, ok := strings.Cut(string(readme), "### Wiring the sign-in flow\n")
	require.True(t, ok, "the README has the section")
	section, _, _ = strings.Cut(section, "\n### ")
	require.Contains(t, section, "```go\n"+fn+"```\n", "the README's code is routes in signin_example_test.go, byte for byte")
}
