package twofahttp_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"html"
	"html/template"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twofa-go/twofa"
	"github.com/twofa-go/twofa/twofahttp"
	"github.com/twofa-go/twofa/twofatest"
)

// decodeQR reads a PNG's QR code with gozxing (ZXing, the decoder of many
// authenticator apps) as a scanner does, and returns the image too.
func decodeQR(t *testing.T, data []byte) (string, image.Image) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	require.NoError(t, err)
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	require.NoError(t, err)
	res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	require.NoError(t, err)
	return res.GetText(), img
}

func enrollment(t *testing.T) *twofa.Enrollment {
	env := twofatest.New(t)
	enr, err := env.Devices.Enroll(context.Background(), "alice@example.com", "Phone", twofa.EnrollOptions{})
	require.NoError(t, err)
	return enr
}

func TestServeQR(t *testing.T) {
	enr := enrollment(t)
	want, err := enr.Key.URI()
	require.NoError(t, err)

	rec := httptest.NewRecorder()
	twofahttp.ServeQR(rec, httptest.NewRequest(http.MethodGet, "/enrol/qr.png", nil), enr.Key, 0)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "image/png", rec.Header().Get("Content-Type"))
	assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	assert.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))
	got, img := decodeQR(t, rec.Body.Bytes())
	assert.Equal(t, want, got)
	assert.Equal(t, image.Rect(0, 0, twofahttp.DefaultQRSize, twofahttp.DefaultQRSize), img.Bounds())

	rec = httptest.NewRecorder()
	twofahttp.ServeQR(rec, httptest.NewRequest(http.MethodGet, "/enrol/qr.png", nil), enr.Key, 400)
	require.Equal(t, http.StatusOK, rec.Code)
	got, img = decodeQR(t, rec.Body.Bytes())
	assert.Equal(t, want, got)
	assert.Equal(t, 400, img.Bounds().Dx())

	rec = httptest.NewRecorder()
	twofahttp.ServeQR(rec, httptest.NewRequest(http.MethodHead, "/enrol/qr.png", nil), enr.Key, 0)
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "image/png", rec.Header().Get("Content-Type"))
	assert.Empty(t, rec.Body.Bytes())
}

func TestServeQRErrors(t *testing.T) {
	enr := enrollment(t)
	for _, size := range []int{-1, twofa.MinPNGSize - 1, twofa.MaxPNGSize + 1} {
		rec := httptest.NewRecorder()
		twofahttp.ServeQR(rec, httptest.NewRequest(http.MethodGet, "/enrol/qr.png", nil), enr.Key, size)
		assert.Equal(t, http.StatusBadRequest, rec.Code, "size %d", size)
		assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
		assert.NotContains(t, rec.Body.String(), enr.Key.Secret.Base32())
	}
	rec := httptest.NewRecorder()
	twofahttp.ServeQR(rec, httptest.NewRequest(http.MethodGet, "/enrol/qr.png", nil), twofa.Key{}, 0) // no account, no secret
	assert.Equal(t, http.StatusBadRequest, rec.Code)
}

func TestQRDataURI(t *testing.T) {
	enr := enrollment(t)
	want, err := enr.Key.URI()
	require.NoError(t, err)

	uri, err := twofahttp.QRDataURI(enr.Key, 0)
	require.NoError(t, err)
	const prefix = "data:image/png;base64,"
	require.True(t, strings.HasPrefix(string(uri), prefix))
	data, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(string(uri), prefix))
	require.NoError(t, err)
	got, _ := decodeQR(t, data)
	assert.Equal(t, want, got)

	// html/template lets it into src (entity-escaped, as attributes
	// are); the same text as a plain string it would refuse.
	tmpl := template.Must(template.New("").Parse(`<img src="{{.}}" alt="QR code">`))
	src := func(v any) string {
		var page strings.Builder
		require.NoError(t, tmpl.Execute(&page, v))
		m := regexp.MustCompile(`^<img src="([^"]*)" alt="QR code">$`).FindStringSubmatch(page.String())
		require.NotNil(t, m, page.String())
		return html.UnescapeString(m[1])
	}
	assert.Equal(t, string(uri), src(uri))
	assert.Equal(t, "#ZgotmplZ", src(string(uri)))

	_, err = twofahttp.QRDataURI(enr.Key, twofa.MaxPNGSize+1)
	assert.ErrorIs(t, err, twofa.ErrQRCode)
	_, err = twofahttp.QRDataURI(twofa.Key{}, 0)
	assert.ErrorIs(t, err, twofa.ErrInvalidURI)
}
