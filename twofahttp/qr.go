package twofahttp

import (
	"encoding/base64"
	"html/template"
	"net/http"
	"strconv"

	"github.com/twofa-go/twofa"
)

// DefaultQRSize is the QR code's size in pixels when ServeQR or
// QRDataURI is given 0. twofa.Key.PNG draws whole pixels per module: a
// usual key (a URI of about 130 characters, QR version 8, 49 modules)
// gets 4 pixels a module, which a phone camera reads off a screen; a key
// with a much longer issuer or account wants a larger size.
const DefaultQRSize = 256

// QRDataURI returns key's QR code (twofa.Key.PNG, size pixels square; 0
// means DefaultQRSize) as a data: URI for an <img src> in the page that
// called twofa.Devices.Enroll:
//
//	qr, err := twofahttp.QRDataURI(enrollment.Key, 0)
//	tmpl.Execute(w, struct{ QR template.URL }{qr}) // <img src="{{.QR}}" alt="QR code">
//
// This is the way to show the code without keeping the secret anywhere:
// the secret exists only in the Enrollment Enroll returned, and the image
// leaves with the page. The result is a template.URL, which html/template
// lets into src (a plain string starting "data:" it replaces with
// "#ZgotmplZ"); it is safe to, since it holds nothing but the base64 of
// the image. Serve the page with Cache-Control: no-store: the image holds
// the secret.
//
// Errors are those of twofa.Key.PNG: a *twofa.URIError for an invalid
// key, or one matching twofa.ErrQRCode for a size that does not fit.
func QRDataURI(key twofa.Key, size int) (template.URL, error) {
	png, err := key.PNG(qrSize(size))
	if err != nil {
		return "", err
	}
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png)), nil
}

// ServeQR answers r with key's QR code as a PNG image (twofa.Key.PNG, size
// pixels square; 0 means DefaultQRSize), for a client that fetches the
// image on its own (a single-page app, a mobile client), from a handler
// that has the key: the secret is not stored in clear, so the key exists
// only in the Enrollment that twofa.Devices.Enroll returned, and whatever
// keeps it for a later request must keep it sealed and briefly. A
// server-rendered page should use QRDataURI instead.
//
// The response is Content-Type: image/png with X-Content-Type-Options:
// nosniff, and Cache-Control: no-store so that no cache keeps the secret.
// If the image cannot be drawn, ServeQR answers with WriteError.
func ServeQR(w http.ResponseWriter, r *http.Request, key twofa.Key, size int) {
	png, err := key.PNG(qrSize(size))
	if err != nil {
		WriteError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "image/png")
	h.Set("Content-Length", strconv.Itoa(len(png)))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(png)
	}
}

func qrSize(size int) int {
	if size == 0 {
		return DefaultQRSize
	}
	return size
}
