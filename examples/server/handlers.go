package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strings"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/browser"
	"github.com/twofa-go/twofa/phone"
	"github.com/twofa-go/twofa/phone/phonenumber"
	"github.com/twofa-go/twofa/signin"
	"github.com/twofa-go/twofa/twofahttp"
)

func (s *server) home(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.current(r); ok {
		http.Redirect(w, r, "/settings", http.StatusSeeOther)
		return
	}
	s.render(w, http.StatusOK, "home", page{Title: "Welcome"})
}

// Sign up.

func (s *server) signupPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, http.StatusOK, "signup", page{Title: "Create an account"})
}

func (s *server) signup(w http.ResponseWriter, r *http.Request) {
	name := normAccount(r.PostFormValue("account"))
	pw := r.PostFormValue("password")
	again := func(msg string) {
		s.render(w, http.StatusUnprocessableEntity, "signup", page{Title: "Create an account", Error: msg, Data: name})
	}
	if !accountRE.MatchString(name) {
		again("An account name is 1 to 64 letters, digits and . _ @ + - (an e-mail address will do).")
		return
	}
	if err := checkNewPassword(pw); err != nil {
		again("A password has 8 to 256 characters.")
		return
	}
	if pw != r.PostFormValue("password2") {
		again("The two passwords differ.")
		return
	}
	h, err := hashPassword(s.cfg.Argon2, pw)
	if err != nil {
		s.fail(w, nil, err)
		return
	}
	if err := s.users.create(r.Context(), name, h); errors.Is(err, errAccountTaken) {
		again("That account name is taken.")
		return
	} else if err != nil {
		s.fail(w, nil, err)
		return
	}
	if err := s.startSession(w, r, name); err != nil {
		s.fail(w, nil, err)
		return
	}
	http.Redirect(w, r, "/settings", http.StatusSeeOther)
}

// Sign in: the password, then (when two-factor authentication is on and
// the browser is not trusted) a second factor.

func (s *server) signinPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, http.StatusOK, "signin", page{Title: "Sign in"})
}

func (s *server) signin(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	name := normAccount(r.PostFormValue("account"))
	ok, err := s.checkPassword(ctx, name, r.PostFormValue("password"))
	var th *twofa.ThrottledError
	if errors.As(err, &th) {
		s.render(w, http.StatusTooManyRequests, "signin", page{Title: "Sign in", Error: passwordRetryText(th), Data: name})
		return
	}
	if err != nil {
		s.fail(w, nil, err)
		return
	}
	if !ok {
		s.render(w, http.StatusUnauthorized, "signin", page{Title: "Sign in", Error: "Wrong account name or password.", Data: name})
		return
	}
	done, err := s.step.Begin(w, r, name)
	if err != nil {
		s.fail(w, nil, err)
		return
	}
	if !done { // two-factor authentication is on, and the browser is not trusted
		http.Redirect(w, r, "/signin/code", http.StatusSeeOther)
		return
	}
	if err := s.startSession(w, r, name); err != nil {
		s.fail(w, nil, err)
		return
	}
	http.Redirect(w, r, "/settings", http.StatusSeeOther)
}

// codeData is what the second step's page shows.
type codeData struct {
	Phones []phone.Info
}

func (s *server) renderCode(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	phones, err := s.phones.List(r.Context(), name)
	if err != nil {
		s.fail(w, nil, err)
		return
	}
	var trusted []phone.Info
	for _, ph := range phones {
		if ph.State == phone.Trusted {
			trusted = append(trusted, ph)
		}
	}
	p.Title = "Two-factor authentication"
	p.Data = codeData{Phones: trusted}
	s.render(w, status, "code", p)
}

// pendingAccount returns the account of the request's pending sign-in,
// or sends the browser back to the password with a message.
func (s *server) pendingAccount(w http.ResponseWriter, r *http.Request) (string, bool) {
	info, err := s.step.Pending(r)
	if err != nil {
		s.startOver(w, r, err)
		return "", false
	}
	return info.Account, true
}

// startOver answers a request whose pending sign-in is gone (err matches
// signin.ErrNotFound) with the password page, saying why.
func (s *server) startOver(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, twofahttp.ErrNoSignInCookie):
		http.Redirect(w, r, "/signin", http.StatusSeeOther)
		return
	case !errors.Is(err, signin.ErrNotFound):
		s.fail(w, nil, err)
		return
	}
	msg := "Your sign-in expired. Sign in again."
	if errors.Is(err, signin.ErrTooManyAttempts) {
		msg = "Too many wrong codes for this sign-in. Sign in again with your password."
	}
	_ = s.step.Cookie.Clear(w)
	s.render(w, http.StatusUnauthorized, "signin", page{Title: "Sign in", Error: msg})
}

func (s *server) codePage(w http.ResponseWriter, r *http.Request) {
	if name, ok := s.pendingAccount(w, r); ok {
		s.renderCode(w, r, http.StatusOK, name, page{})
	}
}

func (s *server) code(w http.ResponseWriter, r *http.Request) {
	fin, err := s.step.Finish(w, r, r.PostFormValue("code"), r.PostFormValue("trust") != "")
	if errors.Is(err, signin.ErrNotFound) { // expired, void, finished already: start over
		s.startOver(w, r, err)
		return
	}
	if err != nil { // a wrong, replayed, malformed or throttled code: the same page again
		p := twofahttp.ProblemFor(err) // 401, or 429 for a throttled one
		msg, known := codeError(err)
		switch {
		case known:
		case p.Status == http.StatusInternalServerError:
			s.fail(w, nil, err)
			return
		default:
			msg = p.Detail
		}
		s.renderCode(w, r, p.Status, fin.Account, page{Error: msg})
		return
	}
	if err := s.startSession(w, r, fin.Account); err != nil {
		s.fail(w, nil, err)
		return
	}
	a, _ := s.sessionOf(w, fin.Account)
	if fin.Result.Factor == twofa.FactorRecoveryCode && a != nil {
		s.flash(a, fmt.Sprintf("You signed in with a recovery code; %d left. Generate new ones if you are running low.", fin.Result.RecoveryCodesLeft))
	}
	http.Redirect(w, r, "/settings", http.StatusSeeOther)
}

// sessionOf finds the session just started in w's Set-Cookie header, so
// that a flash can be left on it.
func (s *server) sessionOf(w http.ResponseWriter, name string) (*account, bool) {
	for _, c := range w.Header().Values("Set-Cookie") {
		if v, ok := strings.CutPrefix(c, sessionCookie+"="); ok {
			tok, _, _ := strings.Cut(v, ";")
			return &account{Name: name, token: tok}, true
		}
	}
	return nil, false
}

// textCode sends a sign-in code to one of the pending account's trusted
// phones.
func (s *server) textCode(w http.ResponseWriter, r *http.Request) {
	name, ok := s.pendingAccount(w, r)
	if !ok {
		return
	}
	ch := phone.SMS
	if r.PostFormValue("channel") == "voice" {
		ch = phone.Voice
	}
	sent, err := s.phones.SendCode(r.Context(), name, r.PostFormValue("phone"), ch)
	var cd *phone.CooldownError
	switch {
	case errors.As(err, &cd):
		s.renderCode(w, r, http.StatusTooManyRequests, name, page{Error: cooldownText(cd)})
	case errors.Is(err, twofa.ErrNotFound):
		s.renderCode(w, r, http.StatusNotFound, name, page{Error: "No such phone number."})
	case err != nil:
		s.fail(w, nil, err)
	default:
		msg := fmt.Sprintf("We sent a code to %s. Type it below.", sent.To)
		if ch == phone.Voice {
			msg = fmt.Sprintf("We are calling %s to read you a code. Type it below.", sent.To)
		}
		s.renderCode(w, r, http.StatusOK, name, page{Notice: msg})
	}
}

func cooldownText(cd *phone.CooldownError) string {
	if cd.Hourly {
		return fmt.Sprintf("Too many codes sent in the last hour. Try again after %s.", cd.Until.UTC().Format("15:04:05 UTC"))
	}
	return fmt.Sprintf("A code was sent a moment ago. Wait %s before asking for another.", cd.RetryAfter.Round(1e9))
}

func (s *server) cancelSignIn(w http.ResponseWriter, r *http.Request) {
	if err := s.step.Cancel(w, r); err != nil {
		s.fail(w, nil, err)
		return
	}
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}

func (s *server) signout(w http.ResponseWriter, r *http.Request) {
	if tok := cookieValue(r, sessionCookie); tok != "" {
		s.sessions.delete(tok)
	}
	clearCookie(w, sessionCookie)
	s.render(w, http.StatusOK, "signin", page{Title: "Sign in", Notice: "You are signed out."})
}

// Settings.

type settingsData struct {
	Enabled      bool
	Devices      int
	Phones       int
	Recovery     int
	AppPasswords int
	Browsers     int
}

func (s *server) settings(w http.ResponseWriter, r *http.Request, a *account) {
	ctx := r.Context()
	var d settingsData
	var err error
	if d.Enabled, err = s.tf.Enabled(ctx, a.Name); err != nil {
		s.fail(w, a, err)
		return
	}
	devs, err1 := s.tf.Devices.List(ctx, a.Name)
	phones, err2 := s.phones.List(ctx, a.Name)
	left, err3 := s.tf.Recovery.Remaining(ctx, a.Name)
	aps, err4 := s.tf.AppPasswords.List(ctx, a.Name)
	bs, err5 := s.browsers.List(ctx, a.Name)
	if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
		s.fail(w, a, err)
		return
	}
	for _, dv := range devs {
		if dv.State == twofa.DeviceConfirmed {
			d.Devices++
		}
	}
	for _, p := range phones {
		if p.State == phone.Trusted {
			d.Phones++
		}
	}
	d.Recovery, d.AppPasswords, d.Browsers = left, len(aps), len(bs)
	s.render(w, http.StatusOK, "settings", page{Title: "Settings", Account: a.Name, Notice: a.flash, Data: d})
}

// Devices.

func (s *server) devicesPage(w http.ResponseWriter, r *http.Request, a *account) {
	s.renderDevices(w, r, a, http.StatusOK, page{Notice: a.flash})
}

func (s *server) renderDevices(w http.ResponseWriter, r *http.Request, a *account, status int, p page) {
	devs, err := s.tf.Devices.List(r.Context(), a.Name)
	if err != nil {
		s.fail(w, a, err)
		return
	}
	var confirmed []twofa.DeviceInfo
	for _, d := range devs {
		if d.State == twofa.DeviceConfirmed {
			confirmed = append(confirmed, d)
		}
	}
	p.Title, p.Account, p.Data = "Authenticator apps", a.Name, confirmed
	s.render(w, status, "devices", p)
}

type enrollData struct {
	ID      string
	Label   string
	QR      template.URL // data:image/png;base64,...
	Key     string       // the secret in groups of 4
	Account string
	Issuer  string
}

func (s *server) enroll(w http.ResponseWriter, r *http.Request, a *account) {
	e, err := s.tf.Devices.Enroll(r.Context(), a.Name, r.PostFormValue("label"), twofa.EnrollOptions{})
	if err != nil {
		if errors.Is(err, twofa.ErrInvalidLabel) {
			s.renderDevices(w, r, a, http.StatusUnprocessableEntity, page{Error: "Name the app: 1 to 64 characters."})
			return
		}
		if errors.Is(err, twofa.ErrTooManyDevices) {
			s.renderDevices(w, r, a, http.StatusUnprocessableEntity, page{Error: "You have as many authenticator apps as an account may have. Remove one first."})
			return
		}
		s.fail(w, a, err)
		return
	}
	s.sessions.with(a.token, func(v *session) { v.enrolment = e })
	s.renderEnroll(w, a, e, http.StatusOK, "")
}

func (s *server) renderEnroll(w http.ResponseWriter, a *account, e *twofa.Enrollment, status int, msg string) {
	qr, err := twofahttp.QRDataURI(e.Key, 256)
	if err != nil {
		s.fail(w, a, err)
		return
	}
	d := enrollData{
		ID: e.Device.ID, Label: e.Device.Label, Account: e.Key.Account, Issuer: e.Key.Issuer,
		QR: qr, Key: groupKey(e.Key.Secret.Base32()),
	}
	s.render(w, status, "enroll", page{Title: "Add an authenticator app", Account: a.Name, Error: msg, Data: d})
}

func (s *server) confirmDevice(w http.ResponseWriter, r *http.Request, a *account) {
	ctx := r.Context()
	id := r.PostFormValue("id")
	var e *twofa.Enrollment
	s.sessions.with(a.token, func(v *session) { e = v.enrolment })
	ch, err := s.tf.Devices.Confirm(ctx, a.Name, id, r.PostFormValue("code"))
	if err != nil {
		msg, known := codeError(err)
		if !known && !errors.Is(err, twofa.ErrNotFound) && !errors.Is(err, twofa.ErrAlreadyConfirmed) {
			s.fail(w, a, err)
			return
		}
		if errors.Is(err, twofa.ErrInvalidCode) || errors.Is(err, twofa.ErrMalformedCode) {
			if e != nil && e.Device.ID == id {
				s.renderEnroll(w, a, e, http.StatusUnprocessableEntity, msg)
				return
			}
		}
		s.sessions.with(a.token, func(v *session) { v.enrolment = nil })
		if msg == "" {
			msg = "That enrolment is gone. Start again."
		}
		s.renderDevices(w, r, a, http.StatusUnprocessableEntity, page{Error: msg})
		return
	}
	s.sessions.with(a.token, func(v *session) { v.enrolment = nil })
	if ch.TurnedOn {
		s.firstRecoveryCodes(w, r, a, "Your authenticator app is set up: two-factor authentication is on.")
		return
	}
	s.flash(a, "Authenticator app added.")
	http.Redirect(w, r, "/settings/devices", http.StatusSeeOther)
}

// firstRecoveryCodes issues the first recovery codes, once the first
// second factor turned two-factor authentication on, and shows them.
func (s *server) firstRecoveryCodes(w http.ResponseWriter, r *http.Request, a *account, msg string) {
	codes, err := s.tf.Recovery.Generate(r.Context(), a.Name)
	if err != nil {
		s.fail(w, a, err)
		return
	}
	s.render(w, http.StatusOK, "codes", page{Title: "Your recovery codes", Account: a.Name, Notice: msg, Data: codes})
}

func (s *server) renameDevice(w http.ResponseWriter, r *http.Request, a *account) {
	err := s.tf.Devices.Rename(r.Context(), a.Name, r.PostFormValue("id"), r.PostFormValue("label"))
	switch {
	case errors.Is(err, twofa.ErrInvalidLabel):
		s.renderDevices(w, r, a, http.StatusUnprocessableEntity, page{Error: "A name has 1 to 64 characters."})
	case errors.Is(err, twofa.ErrNotFound):
		s.renderDevices(w, r, a, http.StatusNotFound, page{Error: "No such authenticator app."})
	case err != nil:
		s.fail(w, a, err)
	default:
		s.flash(a, "Renamed.")
		http.Redirect(w, r, "/settings/devices", http.StatusSeeOther)
	}
}

func (s *server) revokeDevice(w http.ResponseWriter, r *http.Request, a *account) {
	ch, err := s.tf.Devices.Revoke(r.Context(), a.Name, r.PostFormValue("id"))
	switch {
	case errors.Is(err, twofa.ErrNotFound):
		s.renderDevices(w, r, a, http.StatusNotFound, page{Error: "No such authenticator app."})
		return
	case err != nil:
		s.fail(w, a, err)
		return
	}
	msg := "Authenticator app removed."
	if ch.TurnedOff {
		msg += " That was your last second factor: two-factor authentication is off, and your recovery codes, app passwords and trusted browsers were revoked."
	}
	s.flash(a, msg)
	http.Redirect(w, r, "/settings/devices", http.StatusSeeOther)
}

// Recovery codes.

func (s *server) recoveryPage(w http.ResponseWriter, r *http.Request, a *account) {
	left, err := s.tf.Recovery.Remaining(r.Context(), a.Name)
	if err != nil {
		s.fail(w, a, err)
		return
	}
	on, err := s.tf.Enabled(r.Context(), a.Name)
	if err != nil {
		s.fail(w, a, err)
		return
	}
	s.render(w, http.StatusOK, "recovery", page{Title: "Recovery codes", Account: a.Name, Notice: a.flash,
		Data: map[string]any{"Left": left, "Enabled": on}})
}

func (s *server) regenerateRecovery(w http.ResponseWriter, r *http.Request, a *account) {
	codes, err := s.tf.Recovery.Generate(r.Context(), a.Name)
	if errors.Is(err, twofa.ErrNotEnrolled) {
		s.flash(a, "Recovery codes need two-factor authentication on: add an authenticator app or a phone first.")
		http.Redirect(w, r, "/settings/recovery", http.StatusSeeOther)
		return
	}
	if err != nil {
		s.fail(w, a, err)
		return
	}
	s.render(w, http.StatusOK, "codes", page{Title: "Your recovery codes", Account: a.Name,
		Notice: "New recovery codes: the old ones no longer work.", Data: codes})
}

// App passwords.

type appPasswordsData struct {
	List    []twofa.AppPasswordInfo
	New     string // the password just created, shown once
	NewName string
	Enabled bool
}

func (s *server) renderAppPasswords(w http.ResponseWriter, r *http.Request, a *account, status int, p page, d appPasswordsData) {
	list, err := s.tf.AppPasswords.List(r.Context(), a.Name)
	if err != nil {
		s.fail(w, a, err)
		return
	}
	on, err := s.tf.Enabled(r.Context(), a.Name)
	if err != nil {
		s.fail(w, a, err)
		return
	}
	d.List, d.Enabled = list, on
	p.Title, p.Account, p.Data = "App passwords", a.Name, d
	s.render(w, status, "apppasswords", p)
}

func (s *server) appPasswordsPage(w http.ResponseWriter, r *http.Request, a *account) {
	s.renderAppPasswords(w, r, a, http.StatusOK, page{Notice: a.flash}, appPasswordsData{})
}

func (s *server) createAppPassword(w http.ResponseWriter, r *http.Request, a *account) {
	pw, info, err := s.tf.AppPasswords.Create(r.Context(), a.Name, r.PostFormValue("label"))
	var msg string
	switch {
	case errors.Is(err, twofa.ErrNotEnrolled):
		msg = "App passwords need two-factor authentication on."
	case errors.Is(err, twofa.ErrInvalidLabel):
		msg = "Name the app password: 1 to 64 characters."
	case errors.Is(err, twofa.ErrDuplicateLabel):
		msg = "You have an app password of that name already."
	case errors.Is(err, twofa.ErrTooManyAppPasswords):
		msg = "You have as many app passwords as an account may have. Revoke one first."
	case err != nil:
		s.fail(w, a, err)
		return
	}
	if msg != "" {
		s.renderAppPasswords(w, r, a, http.StatusUnprocessableEntity, page{Error: msg}, appPasswordsData{})
		return
	}
	s.renderAppPasswords(w, r, a, http.StatusOK, page{}, appPasswordsData{New: pw, NewName: info.Label})
}

func (s *server) revokeAppPassword(w http.ResponseWriter, r *http.Request, a *account) {
	err := s.tf.AppPasswords.Revoke(r.Context(), a.Name, r.PostFormValue("id"))
	if errors.Is(err, twofa.ErrNotFound) {
		s.renderAppPasswords(w, r, a, http.StatusNotFound, page{Error: "No such app password."}, appPasswordsData{})
		return
	}
	if err != nil {
		s.fail(w, a, err)
		return
	}
	s.flash(a, "App password revoked.")
	http.Redirect(w, r, "/settings/app-passwords", http.StatusSeeOther)
}

// Phone numbers.

func (s *server) renderPhones(w http.ResponseWriter, r *http.Request, a *account, status int, p page) {
	list, err := s.phones.List(r.Context(), a.Name)
	if err != nil {
		s.fail(w, a, err)
		return
	}
	p.Title, p.Account, p.Data = "Phone numbers", a.Name, list
	s.render(w, status, "phones", p)
}

func (s *server) phonesPage(w http.ResponseWriter, r *http.Request, a *account) {
	s.renderPhones(w, r, a, http.StatusOK, page{Notice: a.flash})
}

func (s *server) addPhone(w http.ResponseWriter, r *http.Request, a *account) {
	ctx := r.Context()
	region := strings.ToUpper(strings.TrimSpace(r.PostFormValue("region")))
	n, err := phonenumber.Parse(r.PostFormValue("number"), region)
	if err != nil {
		s.renderPhones(w, r, a, http.StatusUnprocessableEntity, page{Error: "That is not a phone number we can text: " + err.Error() + "."})
		return
	}
	p, err := s.phones.Add(ctx, a.Name, n)
	switch {
	case errors.Is(err, phone.ErrExists):
		s.renderPhones(w, r, a, http.StatusUnprocessableEntity, page{Error: "You have added that number already."})
		return
	case errors.Is(err, phone.ErrTooMany):
		s.renderPhones(w, r, a, http.StatusUnprocessableEntity, page{Error: "You have as many phone numbers as an account may have."})
		return
	case err != nil:
		s.fail(w, a, err)
		return
	}
	s.sendConfirmCode(w, r, a, p.ID)
}

func (s *server) sendConfirmCode(w http.ResponseWriter, r *http.Request, a *account, id string) {
	sent, err := s.phones.SendCode(r.Context(), a.Name, id, phone.SMS)
	var cd *phone.CooldownError
	switch {
	case errors.As(err, &cd):
		s.renderPhones(w, r, a, http.StatusTooManyRequests, page{Error: cooldownText(cd)})
	case errors.Is(err, twofa.ErrNotFound), errors.Is(err, twofa.ErrEnrollmentExpired):
		s.renderPhones(w, r, a, http.StatusNotFound, page{Error: "That number is gone: add it again."})
	case err != nil:
		s.fail(w, a, err)
	default:
		s.renderPhones(w, r, a, http.StatusOK, page{Notice: fmt.Sprintf("We sent a code to %s. Type it below to confirm the number.", sent.To)})
	}
}

func (s *server) sendPhoneCode(w http.ResponseWriter, r *http.Request, a *account) {
	s.sendConfirmCode(w, r, a, r.PostFormValue("id"))
}

func (s *server) confirmPhone(w http.ResponseWriter, r *http.Request, a *account) {
	ch, err := s.phones.Confirm(r.Context(), a.Name, r.PostFormValue("id"), r.PostFormValue("code"))
	if err != nil {
		msg, known := codeError(err)
		switch {
		case errors.Is(err, phone.ErrCodeExpired):
			msg = "That code no longer works: send a new one."
		case errors.Is(err, twofa.ErrNotFound):
			msg = "No such phone number."
		case errors.Is(err, phone.ErrConfirmed):
			msg = "That number is confirmed already."
		case !known:
			s.fail(w, a, err)
			return
		}
		s.renderPhones(w, r, a, http.StatusUnprocessableEntity, page{Error: msg})
		return
	}
	if ch.TurnedOn {
		s.firstRecoveryCodes(w, r, a, "Your phone number is confirmed: two-factor authentication is on.")
		return
	}
	s.flash(a, "Phone number confirmed.")
	http.Redirect(w, r, "/settings/phones", http.StatusSeeOther)
}

func (s *server) removePhone(w http.ResponseWriter, r *http.Request, a *account) {
	ch, err := s.phones.Remove(r.Context(), a.Name, r.PostFormValue("id"))
	if errors.Is(err, twofa.ErrNotFound) {
		s.renderPhones(w, r, a, http.StatusNotFound, page{Error: "No such phone number."})
		return
	}
	if err != nil {
		s.fail(w, a, err)
		return
	}
	msg := "Phone number removed."
	if ch.TurnedOff {
		msg += " That was your last second factor: two-factor authentication is off, and your recovery codes, app passwords and trusted browsers were revoked."
	}
	s.flash(a, msg)
	http.Redirect(w, r, "/settings/phones", http.StatusSeeOther)
}

// Trusted browsers.

type browsersData struct {
	List    []browser.Info
	Current string // the id of this browser, if it is trusted
}

func (s *server) browsersPage(w http.ResponseWriter, r *http.Request, a *account) {
	ctx := r.Context()
	list, err := s.browsers.List(ctx, a.Name)
	if err != nil {
		s.fail(w, a, err)
		return
	}
	d := browsersData{List: list}
	if tok, ok := browser.Token(r); ok {
		if info, err := s.browsers.Check(ctx, a.Name, tok); err == nil {
			d.Current = info.ID
		}
	}
	s.render(w, http.StatusOK, "browsers", page{Title: "Trusted browsers", Account: a.Name, Notice: a.flash, Data: d})
}

func (s *server) revokeBrowser(w http.ResponseWriter, r *http.Request, a *account) {
	err := s.browsers.Revoke(r.Context(), a.Name, r.PostFormValue("id"))
	if err != nil && !errors.Is(err, twofa.ErrNotFound) {
		s.fail(w, a, err)
		return
	}
	if err != nil {
		s.flash(a, "That browser is not trusted any more.")
	} else {
		s.flash(a, "Browser revoked: it will ask for a code at the next sign-in.")
	}
	http.Redirect(w, r, "/settings/browsers", http.StatusSeeOther)
}

func (s *server) revokeAllBrowsers(w http.ResponseWriter, r *http.Request, a *account) {
	n, err := s.browsers.RevokeAll(r.Context(), a.Name)
	if err != nil {
		s.fail(w, a, err)
		return
	}
	s.flash(a, fmt.Sprintf("%d browsers revoked.", n))
	http.Redirect(w, r, "/settings/browsers", http.StatusSeeOther)
}

// Password.

func (s *server) passwordPage(w http.ResponseWriter, r *http.Request, a *account) {
	s.render(w, http.StatusOK, "password", page{Title: "Change your password", Account: a.Name})
}

func (s *server) changePassword(w http.ResponseWriter, r *http.Request, a *account) {
	ctx := r.Context()
	again := func(msg string) {
		s.render(w, http.StatusUnprocessableEntity, "password", page{Title: "Change your password", Account: a.Name, Error: msg})
	}
	ok, err := s.checkPassword(ctx, a.Name, r.PostFormValue("current"))
	var th *twofa.ThrottledError
	if errors.As(err, &th) {
		again(passwordRetryText(th))
		return
	}
	if err != nil {
		s.fail(w, a, err)
		return
	}
	if !ok {
		again("Your current password is not right.")
		return
	}
	pw := r.PostFormValue("password")
	if err := checkNewPassword(pw); err != nil {
		again("A password has 8 to 256 characters.")
		return
	}
	if pw != r.PostFormValue("password2") {
		again("The two new passwords differ.")
		return
	}
	h, err := hashPassword(s.cfg.Argon2, pw)
	if err != nil {
		s.fail(w, a, err)
		return
	}
	if err := s.users.setHash(ctx, a.Name, h); err != nil {
		s.fail(w, a, err)
		return
	}
	// Whoever learnt the old password may have made app passwords or
	// trusted a browser: both go, and every other session ends.
	if err := s.tf.PasswordChanged(ctx, a.Name); err != nil {
		s.fail(w, a, err)
		return
	}
	s.sessions.deleteAccount(a.Name)
	browser.ClearCookie(w)
	if err := s.startSession(w, r, a.Name); err != nil {
		s.fail(w, a, err)
		return
	}
	if na, ok := s.sessionOf(w, a.Name); ok {
		s.flash(na, "Password changed. Your app passwords and trusted browsers were revoked, and your other sessions signed out.")
	}
	http.Redirect(w, r, "/settings", http.StatusSeeOther)
}

// The development outbox.

func (s *server) outboxPage(w http.ResponseWriter, r *http.Request) {
	p := page{Title: "Outbox (development only)", Data: s.outbox.newest()}
	if a, ok := s.current(r); ok {
		p.Account = a.Name
	}
	s.render(w, http.StatusOK, "outbox", p)
}

// apiWhoami is an API endpoint behind HTTP Basic auth (twofahttp.BasicAuth,
// see routes): while two-factor authentication is on for the account
// only its app passwords pass (a client that cannot prompt for a code
// gets one of its own); while it is off, the primary password.
func apiWhoami(w http.ResponseWriter, r *http.Request) {
	c, _ := twofahttp.CredentialFrom(r.Context())
	via := "app password"
	if c.Primary() {
		via = "password"
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"account": c.Account, "via": via})
}
