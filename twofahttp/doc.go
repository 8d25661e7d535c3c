// Package twofahttp puts a twofa installation on net/http: errors as
// responses, Basic authentication with app passwords, cross-origin
// protection for forms, the QR code of an enrolment, and the cookie of a
// pending sign-in.
//
//   - WriteError answers any twofa error with an RFC 9457
//     application/problem+json body and the right status (400, 401, 429
//     with Retry-After, 503, 500); ProblemFor gives the same Problem to a
//     server-rendered page. Every refused code or password gets the same
//     401, so no response tells which factors an account has.
//   - BasicAuth guards an endpoint that mail, calendar and other clients
//     reach with HTTP Basic authentication: the primary password works
//     only while two-factor authentication is off; once it is on, only an
//     app password (twofa.AppPasswords) does. CredentialFrom tells the
//     handler who it is.
//   - CrossOriginProtection refuses cross-origin form posts (CSRF) with
//     net/http.CrossOriginProtection: no tokens in templates.
//   - QRDataURI and ServeQR show an enrolment's key as a QR code without
//     the secret ever being stored.
//   - SignIn is the sign-in's second step on package signin: Begin after
//     the password (done at once for 2FA off or a trusted browser, else a
//     pending sign-in in a __Host- cookie, SignInCookie), Pending for the
//     code page, Finish with the code and "trust this browser", Cancel.
//
// The package imports twofa, browser, phone and signin, never the other way: an
// application without HTTP links none of it.
package twofahttp
