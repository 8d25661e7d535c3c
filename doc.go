// Package twofa is two-factor authentication for Go backends: one-time
// codes (HOTP, RFC 4226; TOTP, RFC 6238), the trusted devices that hold
// their secrets, and one call that tells a login handler whether a second
// factor is good - safely under concurrency and across server replicas.
//
// # The core
//
// A Secret is an authenticator's shared key; it never prints itself. TOTP
// and HOTP are prepared, immutable generators: AppendCode and Verify
// allocate nothing and compare in constant time. A Key is the otpauth:// URI (and
// QR code) that a phone app scans.
//
//	secret, _ := twofa.NewSecret()                       // 160 random bits
//	totp, _ := twofa.NewTOTP(secret, twofa.Options{})    // SHA-1, 6 digits, 30 s
//	code, _ := totp.Code(time.Now())
//	step, err := totp.Verify(code, time.Now(), 1)        // ±1 step; store step against replay
//
// # One installation
//
// New takes a Config (store, keyring, issuer, and policy grouped by
// concern, zero values meaning documented defaults), checks it once and
// returns a TwoFA: everything else hangs off that value, so no two parts
// can disagree about a setting. TwoFA.Devices enrols an account's
// authenticators (pending until confirmed with a first code), lists,
// renames and revokes them; their secrets are sealed at rest by a Keyring
// (package keyring, loaded from one environment variable with
// keyring.Parse). TwoFA.Verify checks a sign-in code against every
// confirmed device and the account's recovery codes, refuses replays with
// an atomic compare-and-set in the store, tracks clock drift, and
// throttles guessers with an exponential back-off and a long-horizon
// budget. State lives behind the small store interfaces that Store
// combines: package memstore keeps it in memory, package sqlstore in
// SQLite or PostgreSQL.
//
//	keys, _ := keyring.Parse(os.Getenv("TWOFA_KEYS"))
//	tf, _ := twofa.New(twofa.Config{Store: memstore.New(), Keyring: keys, Issuer: "Example"})
//	e, _ := tf.Devices.Enroll(ctx, account, "Alice's phone", twofa.EnrollOptions{})
//	ch, _ := tf.Devices.Confirm(ctx, account, e.Device.ID, first) // the first code the app shows; ch.TurnedOn: issue recovery codes
//	res, err := tf.Verify(ctx, account, code)                // after the password check
//	var throttled *twofa.ThrottledError
//	switch {
//	case err == nil: // signed in with res.Factor
//	case errors.As(err, &throttled): // 429, Retry-After: throttled.RetryAfter
//	default: // 401
//	}
//
// TwoFA.Recovery issues recovery codes; TwoFA.AppPasswords issues labelled
// app-specific passwords for clients that cannot prompt for a code.
//
// # The lifecycle
//
// Two-factor authentication is on while the account has a second factor.
// lifecycle.go holds, in one table, what turns it on and off and what each
// event voids: the last factor removed (Devices.Revoke), Disable, Reset,
// PasswordChanged. Every change that can turn it on or off reports a
// Change (Change.TurnedOn: issue the first recovery codes), and runs under
// a per-account lock that holds across replicas (LockStore), so that what
// is voided is exactly what depended on the state that ended. TwoFA.Reseal
// re-seals every device after a key rotation; TwoFA.Purge deletes every
// expired record.
//
// Package phone keeps trusted phone numbers and sends them codes by SMS or
// voice; it attaches to the installation as a Factor (TwoFA.AttachFactor).
// Package phone/phonenumber parses typed numbers with libphonenumber.
//
// Package browser remembers browsers that passed a second factor ("don't
// ask again on this browser") and carries their token in a cookie. It
// imports twofa, never the reverse: an installation that does not use it
// links no browser code and no net/http. browser.New attaches its
// trusted browsers to the installation as a Dependent (TwoFA.Attach),
// which turning two-factor authentication off and PasswordChanged revoke.
// Neither package is linked by an installation that does not import it.
//
// Package signin keeps pending sign-ins: the state between a checked
// password and the second factor, finished exactly once across replicas.
// Package twofahttp carries the sign-in step, errors as HTTP problems,
// Basic authentication with app-specific passwords, cross-origin
// protection and the enrolment's QR code onto net/http; the demo
// examples/server wires them into a web application.
//
// Package twofatest gives tests a fake clock and an enrolled device that
// hands out its currently valid code.
package twofa
