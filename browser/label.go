package browser

import "strings"

// maxUserAgentScan bounds how much of a User-Agent Label reads:
// real ones are a few hundred bytes, and a client may send anything.
const maxUserAgentScan = 2048

// maxProductLen bounds the product name Label falls back to.
const maxProductLen = 32

// uaBrowsers name the browsers whose token is unambiguous, in the order
// Label looks for them: each one's User-Agent also carries the
// tokens of the engines it is built on ("Chrome/", "Safari/"), so the
// more specific names come first.
var uaBrowsers = []struct{ token, name string }{
	{"Edg/", "Edge"}, {"EdgA/", "Edge"}, {"EdgiOS/", "Edge"}, {"Edge/", "Edge"},
	{"OPR/", "Opera"}, {"OPT/", "Opera"}, {"OPiOS/", "Opera"}, {"Opera", "Opera"},
	{"SamsungBrowser/", "Samsung Internet"},
	{"YaBrowser/", "Yandex Browser"},
	{"Vivaldi/", "Vivaldi"},
	{"DuckDuckGo/", "DuckDuckGo"},
	{"UCBrowser/", "UC Browser"},
	{"Firefox/", "Firefox"}, {"FxiOS/", "Firefox"},
	{"CriOS/", "Chrome"},
}

// uaPlatforms name the operating systems, in the order Label looks
// for them: an iPhone's User-Agent says "like Mac OS X", an Android one
// "Linux".
var uaPlatforms = []struct{ token, name string }{
	{"iPhone", "iPhone"}, {"iPad", "iPad"}, {"iPod", "iPod"},
	{"Windows Phone", "Windows Phone"},
	{"Android", "Android"},
	{"CrOS", "ChromeOS"},
	{"Windows", "Windows"},
	{"Macintosh", "macOS"}, {"Mac OS X", "macOS"},
	{"FreeBSD", "FreeBSD"}, {"OpenBSD", "OpenBSD"},
	{"Linux", "Linux"}, {"X11", "Linux"},
}

// Label turns a request's User-Agent header into a short label for
// Manager.Trust, the one a settings page lists the browser under:
// "Firefox on Linux", "Chrome on macOS", "Safari on iPhone", "Edge on
// Windows", "Samsung Internet on Android", "In-app browser on Android" (a
// WebView). A client that is not a browser is named by its product
// ("curl", "okhttp"), and one it cannot tell "Unknown browser".
//
//	token, info, err := browsers.Trust(ctx, account, browser.Label(r.UserAgent()))
//
// A User-Agent is usually longer than twofa.MaxLabelLen and is whatever the
// client sent; the label is always one Trust accepts, whatever the input (empty,
// huge, not UTF-8, with control or bidi characters): never empty, at
// most twofa.MaxLabelLen characters, printable ASCII. It names no version, so a
// browser's label does not change when it updates.
func Label(userAgent string) string {
	ua := strings.TrimSpace(userAgent[:min(len(userAgent), maxUserAgentScan)])
	name := uaBrowser(ua)
	platform := ""
	for _, p := range uaPlatforms {
		if strings.Contains(ua, p.token) {
			platform = p.name
			break
		}
	}
	if name == "" {
		name = "Unknown browser"
	}
	if platform == "" {
		return name
	}
	return name + " on " + platform
}

// uaBrowser returns the browser's name, the product of a client that is
// not a browser, or "".
func uaBrowser(ua string) string {
	for _, b := range uaBrowsers {
		if strings.Contains(ua, b.token) {
			return b.name
		}
	}
	mobileApple := strings.Contains(ua, "iPhone") || strings.Contains(ua, "iPad") || strings.Contains(ua, "iPod")
	switch {
	case strings.Contains(ua, "Android") && (strings.Contains(ua, "; wv)") || strings.Contains(ua, "Version/4.0 Chrome/")):
		// An Android WebView: an app showing the page.
		return "In-app browser"
	case strings.Contains(ua, "Chromium/"):
		return "Chromium"
	case strings.Contains(ua, "Chrome/"):
		return "Chrome"
	case strings.Contains(ua, "Safari/") && strings.Contains(ua, "Version/"):
		return "Safari"
	case mobileApple && strings.Contains(ua, "AppleWebKit/"):
		// A WKWebView: no Safari token.
		return "In-app browser"
	case strings.Contains(ua, "Trident/") || strings.Contains(ua, "MSIE "):
		return "Internet Explorer"
	case strings.HasPrefix(ua, "Mozilla/"):
		return ""
	}
	// Not a browser: the product token it starts with ("curl/8.7.1"), if
	// that begins with a letter.
	if ua == "" || !('a' <= ua[0]|0x20 && ua[0]|0x20 <= 'z') {
		return ""
	}
	n := 0
	for n < len(ua) && n < maxProductLen && isProductChar(ua[n]) {
		n++
	}
	return ua[:n]
}

// isProductChar reports the characters Label keeps of a product
// name: ASCII letters, digits, '-', '.' and '_' (a subset of RFC 9110's
// token characters).
func isProductChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_'
}
