package browser_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/browser"
	"github.com/twofa-go/twofa/internal/fuzzseed"
)

// browserLabelCases are User-Agent strings browsers and clients send, and
// the label of each.
var browserLabelCases = []struct{ ua, want string }{
	// Chrome.
	{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome on Windows"},
	{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome on macOS"},
	{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome on Linux"},
	{"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", "Chrome on Android"},
	{"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome on ChromeOS"},
	{"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1", "Chrome on iPhone"},
	{"Mozilla/5.0 (iPad; CPU OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1", "Chrome on iPad"},
	{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chromium/131.0.6778.85 Chrome/131.0.6778.85 Safari/537.36", "Chromium on Linux"},
	// Firefox.
	{"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox on Linux"},
	{"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox on Linux"},
	{"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox on Windows"},
	{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox on macOS"},
	{"Mozilla/5.0 (Android 15; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0", "Firefox on Android"},
	{"Mozilla/5.0 (X11; FreeBSD amd64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox on FreeBSD"},
	{"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/133.0 Mobile/15E148 Safari/605.1.15", "Firefox on iPhone"},
	// Safari.
	{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15", "Safari on macOS"},
	{"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1", "Safari on iPhone"},
	{"Mozilla/5.0 (iPad; CPU OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.7 Mobile/15E148 Safari/604.1", "Safari on iPad"},
	// Edge.
	{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", "Edge on Windows"},
	{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", "Edge on macOS"},
	{"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36 EdgA/131.0.0.0", "Edge on Android"},
	{"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 EdgiOS/131.2903.62 Mobile/15E148 Safari/605.1.15", "Edge on iPhone"},
	{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.102 Safari/537.36 Edge/18.19045", "Edge on Windows"},
	// Opera.
	{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 OPR/115.0.0.0", "Opera on Windows"},
	{"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36 OPR/85.0.0.0", "Opera on Android"},
	{"Opera/9.80 (Windows NT 6.1; WOW64) Presto/2.12.388 Version/12.18", "Opera on Windows"},
	// Samsung Internet, and others built on Chromium.
	{"Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S928B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/27.0 Chrome/125.0.0.0 Mobile Safari/537.36", "Samsung Internet on Android"},
	{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 YaBrowser/24.12.0.0 Safari/537.36", "Yandex Browser on Windows"},
	{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Vivaldi/7.0.3495.18", "Vivaldi on Windows"},
	{"Mozilla/5.0 (Windows NT 10.0; WOW64; Trident/7.0; rv:11.0) like Gecko", "Internet Explorer on Windows"},
	// Apps showing the page in a WebView.
	{"Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/AP2A.240805.005; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/131.0.6778.39 Mobile Safari/537.36", "In-app browser on Android"},
	{"Mozilla/5.0 (Linux; Android 4.4.2; Nexus 5 Build/KOT49H) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/30.0.0.0 Mobile Safari/537.36", "In-app browser on Android"},
	{"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148", "In-app browser on iPhone"},
	// Not browsers.
	{"curl/8.7.1", "curl"},
	{"Wget/1.21.4", "Wget"},
	{"Go-http-client/2.0", "Go-http-client"},
	{"okhttp/4.12.0", "okhttp"},
	{"python-requests/2.32.3", "python-requests"},
	{"Dalvik/2.1.0 (Linux; U; Android 14; Pixel 8 Build/AP2A.240805.005)", "Dalvik on Android"},
	// Nothing to tell.
	{"", "Unknown browser"},
	{"   ", "Unknown browser"},
	{"Mozilla/5.0", "Unknown browser"},
	{"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "Unknown browser"},
	{"Mozilla/5.0 (X11; Linux x86_64)", "Unknown browser on Linux"},
	// Hostile input.
	{"\u202eevil/1.0", "Unknown browser"},
	{"curl\u202e/1.0", "curl"},
	{"\x00\x01\x1b[31m", "Unknown browser"},
	{"\xff\xfe\xfd", "Unknown browser"},
	{"123/4", "Unknown browser"},
	{strings.Repeat("A", 1<<20), strings.Repeat("A", 32)},
	{strings.Repeat("Mozilla/5.0 (Windows NT 10.0) ", 1<<14) + "Firefox/133.0", "Unknown browser on Windows"},
}

// TestBrowserLabel: Label names real User-Agents as a settings
// page shows them, and each label is one Trust accepts, where the
// User-Agent itself is refused as too long.
func TestBrowserLabel(t *testing.T) {
	t.Parallel()
	e := newBrEnv(t, nil)
	e.EnrollTOTP("alice")
	for _, tc := range browserLabelCases {
		got := browser.Label(tc.ua)
		assert.Equal(t, tc.want, got, "Label(%.80q)", tc.ua)
		requireValidLabel(t, got)
		_, info, err := e.browsers.Trust(t.Context(), "alice", got)
		require.NoError(t, err, "Trust with the label of %.80q", tc.ua)
		assert.Equal(t, got, info.Label)
	}
	// The reason for Label: a real User-Agent is no label.
	_, _, err := e.browsers.Trust(t.Context(), "alice", browserLabelCases[0].ua)
	assert.ErrorIs(t, err, twofa.ErrInvalidLabel)
}

// requireValidLabel fails unless label is one Trust accepts, as
// ErrInvalidLabel defines it: not empty after trimming white space, UTF-8,
// at most MaxLabelLen characters, no control or format characters.
func requireValidLabel(t testing.TB, label string) {
	t.Helper()
	if label == "" || strings.TrimSpace(label) != label {
		t.Fatalf("label %q is empty or not trimmed", label)
	}
	if !utf8.ValidString(label) {
		t.Fatalf("label %q is not UTF-8", label)
	}
	if n := utf8.RuneCountInString(label); n > twofa.MaxLabelLen {
		t.Fatalf("label %q has %d characters", label, n)
	}
	for _, r := range label {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			t.Fatalf("label %q holds %U", label, r)
		}
	}
}

// seedDir is the module's seed corpora, which fuzzseed loads (Go looks
// only in this package's own testdata). The targets keep their names
// (FuzzBrowserLabel, FuzzBrowserToken) so that the corpora still apply.
const seedDir = "../testdata/fuzz"

// FuzzBrowserLabel: Label never panics, and whatever the input its
// label is a valid one (see requireValidLabel), printable ASCII, the same
// on every call, and the same for the input with white space around it.
func FuzzBrowserLabel(f *testing.F) {
	fuzzseed.Add(f, seedDir, "FuzzBrowserLabel")
	f.Fuzz(func(t *testing.T, ua string) {
		label := browser.Label(ua)
		requireValidLabel(t, label)
		for i := 0; i < len(label); i++ {
			if label[i] < 0x20 || label[i] > 0x7e {
				t.Fatalf("Label(%q) = %q: not printable ASCII", ua, label)
			}
		}
		if again := browser.Label(ua); again != label {
			t.Fatalf("Label(%q) = %q, then %q", ua, label, again)
		}
		if len(ua) < 1024 {
			if padded := browser.Label(" \t" + ua + "\r\n"); padded != label {
				t.Fatalf("Label(%q) = %q, but %q with white space around", ua, label, padded)
			}
		}
	})
}
