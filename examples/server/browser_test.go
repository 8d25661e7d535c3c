package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/signin"
)

// The browser tests drive the demo in headless Chromium as a person
// would: typing into the forms, clicking, reading the pages. Without
// Chromium they skip, unless the environment variable CI is non-empty,
// where they fail. TWOFA_SCREENSHOTS=dir saves a PNG of every page
// visited; -docs refreshes the screenshots of the main pages in the
// repository's docs/ directory:
//
//	go test ./examples/server -run TestBrowser -docs

var docs = flag.Bool("docs", false, "write screenshots of the main pages to ../../docs")

const docsDir = "../../docs"

// chromium returns the browser's path, or skips (fails when TWOFA_CI is set, as .ci/run sets it).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	if os.Getenv("TWOFA_CI") != "" {
		t.Fatal("Chromium not found, and TWOFA_CI is set: install it (apt-get install -y chromium)")
	}
	t.Skip("Chromium not found: skipping the browser tests (apt-get install -y chromium)")
	return ""
}

// tab is one headless Chromium, with a fresh profile, on the demo.
type tab struct {
	t    *testing.T
	ctx  context.Context
	s    *testServer
	base string
	step int
}

const (
	viewW, viewH = 960, 860
	password     = "correct horse battery"
)

func newTab(t *testing.T) *tab {
	t.Helper()
	exe := chromium(t)
	s := startServer(t, "sqlite")
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.WindowSize(viewW, viewH),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelC(); cancelA() })
	require.NoError(t, chromedp.Do(ctx), "start Chromium") // before any deadline
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancelT)
	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(viewW, viewH)))
	// localhost, not 127.0.0.1: the origin browsers treat as secure.
	base := strings.Replace(s.URL, "127.0.0.1", "localhost", 1)
	return &tab{t: t, ctx: ctx, s: s, base: base}
}

// open navigates to path.
func (b *tab) open(path string) {
	b.t.Helper()
	require.NoError(b.t, chromedp.Do(b.ctx, chromedp.Navigate(b.base+path)), path)
	b.shot(strings.Trim(strings.ReplaceAll(path, "/", "-"), "-"))
}

// typeInto types text into the field sel, as a person at the keyboard.
func (b *tab) typeInto(sel, text string) {
	b.t.Helper()
	_, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](fmt.Sprintf("(() => { const e = document.querySelector(%q); e.select(); e.value = ''; return true })()", sel)))
	require.NoError(b.t, err, sel)
	require.NoError(b.t, chromedp.Do(b.ctx, chromedp.SendKeys(chromedp.CSS(sel), text)), sel)
}

// click clicks sel, which submits a form or follows a link, and waits
// for the next page.
func (b *tab) click(sel, step string) {
	b.t.Helper()
	_, err := chromedp.RunResponse(b.ctx, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
	require.NoError(b.t, err, sel)
	b.shot(step)
}

// text returns the text of sel.
func (b *tab) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
	require.NoError(b.t, err, sel)
	return s
}

// page returns the text of the whole page.
func (b *tab) page() string { return b.text("body") }

// has reports whether an element matches sel.
func (b *tab) has(sel string) bool {
	b.t.Helper()
	ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](fmt.Sprintf("document.querySelector(%q) !== null", sel)))
	require.NoError(b.t, err)
	return ok
}

// texts returns the text of every element that matches sel.
func (b *tab) texts(sel string) []string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](fmt.Sprintf("Array.from(document.querySelectorAll(%q), e => e.textContent.trim())", sel)))
	require.NoError(b.t, err)
	return v
}

func (b *tab) path() string {
	b.t.Helper()
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	require.NoError(b.t, err)
	return strings.TrimPrefix(loc, b.base)
}

func (b *tab) screenshot() []byte {
	b.t.Helper()
	data, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	require.NoError(b.t, err)
	return data
}

// shot saves a screenshot of the page under TWOFA_SCREENSHOTS, named by
// the test and the step.
func (b *tab) shot(step string) {
	b.t.Helper()
	dir := os.Getenv("TWOFA_SCREENSHOTS")
	if dir == "" {
		return
	}
	b.step++
	name := fmt.Sprintf("%s-%02d-%s.png", strings.ReplaceAll(b.t.Name(), "/", "_"), b.step, step)
	require.NoError(b.t, os.MkdirAll(dir, 0o755))
	require.NoError(b.t, os.WriteFile(filepath.Join(dir, name), b.screenshot(), 0o644))
}

// doc saves a screenshot of the page as docs/name.png, with -docs.
func (b *tab) doc(name string) {
	b.t.Helper()
	if !*docs {
		return
	}
	// Cropped below the page's content and compressed hard: the
	// repository keeps these.
	img, err := png.Decode(bytes.NewReader(b.screenshot()))
	require.NoError(b.t, err)
	bottom, err := chromedp.Run(b.ctx, chromedp.Evaluate[float64](`document.querySelector("main").getBoundingClientRect().bottom`))
	require.NoError(b.t, err)
	h := min(img.Bounds().Dy(), int(bottom)+24)
	crop := img.(interface {
		SubImage(image.Rectangle) image.Image
	}).SubImage(image.Rect(0, 0, img.Bounds().Dx(), h))
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	require.NoError(b.t, enc.Encode(&buf, crop))
	require.NoError(b.t, os.WriteFile(filepath.Join(docsDir, name+".png"), buf.Bytes(), 0o644))
}

// signUp creates the account and lands on its settings.
func (b *tab) signUp(account string) {
	b.t.Helper()
	b.open("/signup")
	b.typeInto("#account", account)
	b.typeInto("#password", password)
	b.typeInto("#password2", password)
	b.click("#submit", "signed-up")
	require.Contains(b.t, b.page(), "Signed in as "+account)
	require.Contains(b.t, b.text("#status"), "Two-factor authentication is off")
}

// signIn types the account's password and returns the page it lands on.
func (b *tab) signIn(account, pw string) string {
	b.t.Helper()
	b.open("/signin")
	b.typeInto("#account", account)
	b.typeInto("#password", pw)
	b.click("#submit", "password")
	return b.path()
}

func (b *tab) signOut() {
	b.t.Helper()
	b.click("#signout", "signed-out")
	require.Contains(b.t, b.page(), "You are signed out")
}

// typeCode types a second factor on the sign-in's code page.
func (b *tab) typeCode(code string, trust bool) {
	b.t.Helper()
	require.Equal(b.t, "/signin/code", b.path())
	b.typeInto("#code", code)
	if trust {
		require.NoError(b.t, chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS("#trust"))))
	}
	b.click("#submit", "code")
}

// enrol adds an authenticator app by scanning the QR code on the
// screen, and confirms it with its first code; it returns the app's
// generator and the page's text after the confirmation.
func (b *tab) enrol(label string) (*twofa.TOTP, string) {
	b.t.Helper()
	b.open("/settings/devices")
	b.typeInto("#label", label)
	b.click("#enroll", "enrol")
	key := b.scanQR()
	typed := strings.ReplaceAll(b.text("#key"), " ", "")
	require.Equal(b.t, key.Secret.Base32(), typed, "the spelled-out key is the QR code's")
	require.Regexp(b.t, `^([A-Z2-7]{4} )+[A-Z2-7]{1,4}$`, b.text("#key"), "groups of 4")
	totp, err := key.TOTP()
	require.NoError(b.t, err)
	b.typeInto("#code", b.code(totp))
	b.click("#confirm", "confirmed")
	return totp, b.page()
}

// code is the code the app shows now, on the server's clock.
func (b *tab) code(totp *twofa.TOTP) string {
	b.t.Helper()
	c, err := totp.Code(b.s.Clock.Now())
	require.NoError(b.t, err)
	return c
}

// nextCode moves the clock to the next 30 s step and returns its code.
func (b *tab) nextCode(totp *twofa.TOTP) string {
	b.s.Clock.Advance(30 * time.Second)
	return b.code(totp)
}

// scanQR decodes the QR code in a screenshot of the page, as a phone's
// camera would, and parses the key it holds.
func (b *tab) scanQR() twofa.Key {
	b.t.Helper()
	img, err := png.Decode(bytes.NewReader(b.screenshot()))
	require.NoError(b.t, err)
	text, err := decodeQR(img)
	if err != nil {
		// gozxing's finder-pattern search misses about 1% of valid
		// symbols; read the code's own square of the screenshot as a
		// pure barcode then (its format and error correction still
		// checked).
		r, rerr := chromedp.Run(b.ctx, chromedp.Evaluate[[]float64](`(() => { const r = document.querySelector("#qr").getBoundingClientRect(); return [r.x, r.y, r.width, r.height] })()`))
		require.NoError(b.t, rerr)
		crop := img.(interface {
			SubImage(image.Rectangle) image.Image
		}).SubImage(image.Rect(int(r[0]), int(r[1]), int(r[0]+r[2]), int(r[1]+r[3])))
		bmp, berr := gozxing.NewBinaryBitmapFromImage(crop)
		require.NoError(b.t, berr)
		res, derr := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true})
		require.NoError(b.t, derr, "QR code in the screenshot (scanner: %v)", err)
		text = res.GetText()
	}
	key, err := twofa.ParseKeyURI(text)
	require.NoError(b.t, err)
	require.Equal(b.t, "twofa demo", key.Issuer)
	return key
}

func decodeQR(img image.Image) (string, error) {
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return "", err
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		return "", err
	}
	return res.GetText(), nil
}

// lastTextedCode reads the newest code on the outbox page, as the
// phone's owner reads the text.
func (b *tab) lastTextedCode() string {
	b.t.Helper()
	b.open("/outbox")
	msgs := b.texts("td.message")
	require.NotEmpty(b.t, msgs)
	// A text starts with the code; a call reads it digit by digit.
	m := regexp.MustCompile(`\d(, \d){5}|\d{6}`).FindString(msgs[0])
	require.NotEmpty(b.t, m, msgs[0])
	return strings.ReplaceAll(m, ", ", "")
}

// TestBrowserEnrolAndSignIn: sign up; turn two-factor authentication on
// by scanning the QR code; recovery codes shown once; sign in with a
// code, a replayed code refused, a recovery code; trust this browser;
// the devices and browsers settings pages.
func TestBrowserEnrolAndSignIn(t *testing.T) {
	b := newTab(t)
	b.open("/signin")
	b.doc("demo-signin")
	b.signUp("alice")

	// Enrolment: the page shows the QR code and the key in groups.
	b.open("/settings/devices")
	b.typeInto("#label", "Pixel")
	b.click("#enroll", "enrol")
	b.doc("demo-enrol")
	key := b.scanQR()
	assert.Equal(t, "alice", key.Account)
	totp, err := key.TOTP()
	require.NoError(t, err)

	// A wrong first code keeps the QR code on the screen.
	wrong := "000000"
	if b.code(totp) == wrong {
		wrong = "111111"
	}
	b.typeInto("#code", wrong)
	b.click("#confirm", "confirm-wrong")
	assert.Contains(t, b.text("#error"), "not right")
	require.True(t, b.has("#qr"))
	b.typeInto("#code", b.code(totp))
	b.click("#confirm", "confirmed")
	page := b.page()
	assert.Contains(t, page, "two-factor authentication is on")
	assert.Contains(t, page, "shown only this once")
	codes := b.texts(".recovery-code")
	require.Len(t, codes, twofa.RecoveryCodeCount)
	b.doc("demo-recovery-codes")

	// Shown once: the recovery page counts them and shows none.
	b.open("/settings/recovery")
	assert.Equal(t, "10", b.text("#left"))
	for _, c := range codes {
		assert.NotContains(t, b.page(), c)
	}
	b.open("/settings")
	assert.Contains(t, b.text("#status"), "on")
	b.doc("demo-settings")

	// Sign out, and in with the app's next code.
	b.signOut()
	require.Equal(t, "/signin/code", b.signIn("alice", password))
	b.doc("demo-code")
	used := b.nextCode(totp)
	b.typeCode(used, false)
	require.Equal(t, "/settings", b.path())

	// The same code again is refused, on the page.
	b.signOut()
	b.signIn("alice", password)
	b.typeCode(used, false)
	assert.Contains(t, b.text("#error"), "used already")
	b.typeCode(b.nextCode(totp), false)
	require.Equal(t, "/settings", b.path())

	// A recovery code signs in once.
	b.signOut()
	b.signIn("alice", password)
	b.typeCode(codes[0], false)
	require.Equal(t, "/settings", b.path())
	assert.Contains(t, b.text("#notice"), "recovery code; 9 left")
	assert.Equal(t, "9 left", b.text("#recovery-count"))
	// New recovery codes, shown once; the old ones stop working.
	b.open("/settings/recovery")
	b.click("#regenerate", "recovery-regenerated")
	assert.Contains(t, b.text("#notice"), "the old ones no longer work")
	fresh := b.texts(".recovery-code")
	require.Len(t, fresh, twofa.RecoveryCodeCount)
	b.open("/settings/recovery")
	assert.Equal(t, "10", b.text("#left"))
	b.signOut()
	b.signIn("alice", password)
	b.typeCode(codes[1], false)
	assert.Contains(t, b.text("#error"), "not right", "an old set's code")
	b.typeCode(codes[0], false)
	assert.Contains(t, b.text("#error"), "not right", "a used code")

	// Trust this browser: the next sign-in asks for the password only.
	b.typeCode(b.nextCode(totp), true)
	require.Equal(t, "/settings", b.path())
	b.signOut()
	require.Equal(t, "/settings", b.signIn("alice", password), "a trusted browser skips the code")
	b.open("/settings/browsers")
	assert.Contains(t, b.text("#browsers"), "(this browser)")
	assert.Contains(t, b.text("#browsers"), "Chrome on Linux")
	b.click("#browsers .revoke", "browser-revoked")
	assert.Contains(t, b.text("#notice"), "Browser revoked")
	assert.True(t, b.has("#no-browsers"))
	b.signOut()
	require.Equal(t, "/signin/code", b.signIn("alice", password), "a revoked browser asks for a code again")
	b.typeCode(b.nextCode(totp), false)

	// Devices: a second app, renamed; the first removed; 2FA stays on.
	_, page = b.enrol("Old phone")
	assert.Contains(t, page, "Authenticator app added")
	assert.NotContains(t, page, "recovery codes", "only the first factor issues recovery codes")
	assert.Equal(t, []string{"Pixel", "Old phone"}, b.texts("#devices tr td:first-child"))
	b.typeInto("#devices tr:nth-child(3) input.rename", "Tablet")
	b.click("#devices tr:nth-child(3) .rename-button", "renamed")
	assert.Equal(t, []string{"Pixel", "Tablet"}, b.texts("#devices tr td:first-child"))
	b.click("#devices tr:nth-child(2) .revoke", "revoked")
	assert.Equal(t, []string{"Tablet"}, b.texts("#devices tr td:first-child"))
	assert.NotContains(t, b.text("#notice"), "off")
	b.click("#devices tr:nth-child(2) .revoke", "revoked-last")
	assert.Contains(t, b.text("#notice"), "two-factor authentication is off")
	b.open("/settings")
	assert.Contains(t, b.text("#status"), "off")
	assert.Equal(t, "0 left", b.text("#recovery-count"))
}

// TestBrowserSMS: a phone number added and confirmed by the code in the
// outbox (which turns two-factor authentication on), a sign-in with a
// texted code (after the resend cool-down), and the number removed.
func TestBrowserSMS(t *testing.T) {
	b := newTab(t)
	b.signUp("bob")
	b.open("/settings/phones")
	b.typeInto("#number", "(415) 555-0142")
	b.click("#add-phone", "phone-added")
	assert.Contains(t, b.text("#notice"), "We sent a code to +1 ••• ••• ••42")
	code := b.lastTextedCode()
	assert.Contains(t, b.text("#outbox"), "+14155550142")
	b.open("/settings/phones")
	assert.Equal(t, []string{"pending"}, b.texts("#phones td.state"))
	b.typeInto("#phones input.phone-code", code)
	b.click("#phones .confirm", "phone-confirmed")
	assert.Contains(t, b.page(), "two-factor authentication is on")
	require.Len(t, b.texts(".recovery-code"), twofa.RecoveryCodeCount)
	b.open("/settings/phones")
	assert.Equal(t, []string{"trusted"}, b.texts("#phones td.state"))

	b.signOut()
	require.Equal(t, "/signin/code", b.signIn("bob", password))
	b.click("#cancel", "cancelled")
	require.Equal(t, "/signin", b.path())
	b.open("/signin/code")
	require.Equal(t, "/signin", b.path(), "a cancelled sign-in is gone")
	require.Equal(t, "/signin/code", b.signIn("bob", password))
	b.click(".text-me", "text-too-soon")
	assert.Contains(t, b.text("#error"), "Wait 30s")
	b.s.Clock.Advance(31 * time.Second)
	b.click(".text-me", "texted")
	assert.Contains(t, b.text("#notice"), "We sent a code to +1 ••• ••• ••42")
	code = b.lastTextedCode()
	b.open("/signin/code")
	b.typeCode(code, false)
	require.Equal(t, "/settings", b.path())
	assert.Equal(t, "1", b.text("#phones-count"))

	// Or by a call, which reads the code out.
	b.signOut()
	require.Equal(t, "/signin/code", b.signIn("bob", password))
	b.s.Clock.Advance(31 * time.Second)
	b.click("button.call-me", "called")
	assert.Contains(t, b.text("#notice"), "We are calling +1 ••• ••• ••42")
	code = b.lastTextedCode()
	assert.Contains(t, b.texts("#outbox tr:nth-child(2) td"), "voice")
	b.open("/signin/code")
	b.typeCode(code, false)
	require.Equal(t, "/settings", b.path())

	b.open("/settings/phones")
	b.click("#phones .remove", "phone-removed")
	assert.Contains(t, b.text("#notice"), "two-factor authentication is off")
	assert.True(t, b.has("#no-phones"))
}

// TestBrowserAppPasswords: app passwords created (shown once), listed,
// revoked, used over Basic auth by a Go client; a password change
// revokes them and the trusted browsers.
func TestBrowserAppPasswords(t *testing.T) {
	b := newTab(t)
	b.signUp("carol")
	b.open("/settings/app-passwords")
	assert.Contains(t, b.page(), "need two-factor authentication on")
	totp, _ := b.enrol("Phone")
	b.open("/settings/app-passwords")
	b.typeInto("#label", "Mail")
	b.click("#create", "app-password")
	mail := b.text("#new-app-password")
	require.Regexp(t, `^[a-z]{4}-[a-z]{4}-[a-z]{4}-[a-z]{4}$`, mail)
	b.doc("demo-app-password")
	b.typeInto("#label", "Calendar")
	b.click("#create", "app-password-2")
	cal := b.text("#new-app-password")
	assert.Equal(t, []string{"Mail", "Calendar"}, b.texts("#app-passwords tr td:first-child"))
	b.open("/settings/app-passwords")
	assert.False(t, b.has("#new-app-password"), "shown once")

	st, who := whoami(t, b.s.URL, "carol", mail)
	assert.Equal(t, 200, st)
	assert.Equal(t, "carol via app password", who)
	st, _ = whoami(t, b.s.URL, "carol", password)
	assert.Equal(t, 401, st, "the primary password does not pass while 2FA is on")

	b.click("#app-passwords tr:nth-child(3) .revoke", "app-password-revoked")
	assert.Equal(t, []string{"Mail"}, b.texts("#app-passwords tr td:first-child"))
	st, _ = whoami(t, b.s.URL, "carol", cal)
	assert.Equal(t, 401, st)

	// A trusted browser, then the password change.
	b.signOut()
	b.signIn("carol", password)
	b.typeCode(b.nextCode(totp), true)
	b.open("/settings")
	assert.Equal(t, "1", b.text("#browsers-count"))
	b.open("/settings/password")
	b.typeInto("#current", password)
	b.typeInto("#password", "a new passphrase")
	b.typeInto("#password2", "a new passphrase")
	b.click("#submit", "password-changed")
	assert.Contains(t, b.text("#notice"), "Password changed")
	assert.Equal(t, "0", b.text("#app-passwords-count"))
	assert.Equal(t, "0", b.text("#browsers-count"))
	st, _ = whoami(t, b.s.URL, "carol", mail)
	assert.Equal(t, 401, st, "a password change revokes app passwords")

	b.signOut()
	require.Equal(t, "/signin", b.signIn("carol", password))
	assert.Contains(t, b.text("#error"), "Wrong account name or password")
	require.Equal(t, "/signin/code", b.signIn("carol", "a new passphrase"), "no longer a trusted browser")
}

// TestBrowserThrottle: wrong codes void the sign-in after 5, and then the
// account's throttle refuses codes, the page saying until when.
func TestBrowserThrottle(t *testing.T) {
	b := newTab(t)
	b.signUp("dave")
	totp, _ := b.enrol("Phone")
	b.signOut()
	b.s.Clock.Advance(30 * time.Second)
	wrong := "123456"
	if b.code(totp) == wrong {
		wrong = "654321"
	}
	b.signIn("dave", password)
	for i := range signin.DefaultMaxAttempts - 1 {
		b.typeCode(wrong, false)
		assert.Contains(t, b.text("#error"), "not right", "try %d", i+1)
	}
	b.typeCode(wrong, false)
	require.Equal(t, "/signin/code", b.path()) // the form's address; the page is the password's
	assert.Contains(t, b.text("#error"), "Too many wrong codes for this sign-in")
	assert.True(t, b.has("#password"))

	// The sixth failure is the first the back-off delays (5 are free).
	b.signIn("dave", password)
	b.typeCode(wrong, false)
	assert.Contains(t, b.text("#error"), "not right")
	b.typeCode(b.code(totp), false)
	until := b.s.Clock.Now().Add(time.Second).UTC().Format("15:04:05 UTC")
	assert.Contains(t, b.text("#error"), "Too many wrong codes. Try again after "+until)
	b.doc("demo-throttled")
	b.s.Clock.Advance(2 * time.Second)
	b.typeCode(b.code(totp), false)
	require.Equal(t, "/settings", b.path())
}
