package twofahttp

import (
	"fmt"
	"net/http"
)

// CrossOriginProtection returns net/http's protection against cross-site
// request forgery (CSRF), to wrap every handler that changes state -
// sign-in, enrolment, confirming a device, creating or revoking app
// passwords and recovery codes, trusting a browser:
//
//	csrf, err := twofahttp.CrossOriginProtection()
//	...
//	http.ListenAndServeTLS(addr, cert, key, csrf.Handler(mux))
//
// A browser tells the server where a request comes from: the Fetch
// metadata header Sec-Fetch-Site (every browser since 2023), or else the
// Origin header, which is compared with the Host. A POST, PUT, PATCH or
// DELETE that a browser marks as cross-origin is refused with a 403
// problem (TypeCrossOrigin); GET, HEAD and OPTIONS always pass, so they
// must never change state. Requests without either header are not from a
// browser (curl, a mail client with Basic authentication) and pass: they
// carry no ambient cookies an attacker could ride on. Unlike a CSRF token,
// this needs nothing in the forms and templates, and nothing to keep on
// the server (see the net/http.CrossOriginProtection documentation, new
// in Go 1.25, and Filippo Valsorda's write-up of the design,
// https://words.filippo.io/csrf/).
//
// trustedOrigins are origins ("https://login.example.com", scheme, host
// and optional port, nothing else) whose cross-origin requests are let
// through, for a front end served from another origin.
// CrossOriginProtection reports an error for a malformed origin. The
// result's Handler wraps a handler, and its Check tests a request by
// itself.
func CrossOriginProtection(trustedOrigins ...string) (*http.CrossOriginProtection, error) {
	p := http.NewCrossOriginProtection()
	for _, o := range trustedOrigins {
		if err := p.AddTrustedOrigin(o); err != nil {
			return nil, fmt.Errorf("twofahttp: CrossOriginProtection: %w", err)
		}
	}
	p.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, Problem{Type: TypeCrossOrigin, Title: "Cross-origin request refused", Status: http.StatusForbidden,
			Detail: "This form was sent from another site. Reload the page and try again."})
	}))
	return p, nil
}
