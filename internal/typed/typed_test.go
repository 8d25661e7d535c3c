package typed

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestTrim(t *testing.T) {
	for in, want := range map[string]string{
		"":                     "",
		"123456":               "123456",
		" 123 456 ":            "123 456",
		"\t123456\r\n":         "123456",
		"\u00a0\u3000123456\v": "123456",
		"12\t34":               "12\t34", // inside is the parser's business
		"\u200b123456":         "\u200b123456",
		" \t\n ":               "",
	} {
		got, ok := Trim(in, 32)
		assert.True(t, ok, "%q", in)
		assert.Equal(t, want, got, "%q", in)
		if want != "" {
			assert.Equal(t, strings.Index(in, want), Leading(in), "%q", in)
		} else {
			assert.Equal(t, len(in), Leading(in), "%q", in)
		}
	}
	_, ok := Trim(strings.Repeat(" ", 33), 32)
	assert.False(t, ok, "the bound applies before trimming")
	_, ok = Trim(strings.Repeat(" ", 32), 32)
	assert.True(t, ok)
	assert.Equal(t, 3, Leading("  \tx "))
	assert.Equal(t, 0, Leading("\xffx"))
}

func TestIsSeparator(t *testing.T) {
	for c := 0; c < 256; c++ {
		assert.Equal(t, c == ' ' || c == '-', IsSeparator(byte(c)), "%q", rune(c))
	}
}
