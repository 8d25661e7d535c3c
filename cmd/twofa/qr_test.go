package main

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/boombuler/barcode/qr"
	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
	"github.com/stretchr/testify/require"

	"github.com/twofa-go/twofa"
)

// qrURIs are the URIs the QR tests draw, each with the canonical form
// the code must hold.
var qrURIs = []struct{ name, in string }{
	{"google example", "otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example"},
	{"sha512", "otpauth://totp/ACME%20Co:john.doe@email.com?secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ&issuer=ACME%20Co&algorithm=SHA512&digits=8&period=60"},
	{"hotp", "otpauth://hotp/alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=42"},
	{"unicode", "otpauth://totp/B%C3%BCcher:j%C3%BCrgen?secret=JBSWY3DPEHPK3PXP&issuer=B%C3%BCcher"},
	{"lower case, form-encoded", "  OTPAUTH://TOTP/Big+Corp:bob?Secret=jbswy3dp-ehpk3pxp&issuer=Big+Corp&digits=7\n"},
}

func canonical(t *testing.T, uri string) string {
	t.Helper()
	k, err := twofa.ParseKeyURI(uri)
	require.NoError(t, err)
	c, err := k.URI()
	require.NoError(t, err)
	return c
}

// decodeQR decodes an image's QR code with gozxing, a port of ZXing, the
// decoder of many authenticator apps, as a scanner does (finding the
// symbol by its finder patterns).
func decodeQR(t *testing.T, img image.Image) string {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	require.NoError(t, err)
	res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	require.NoError(t, err)
	return res.GetText()
}

func TestQRPNG(t *testing.T) {
	dir := t.TempDir()
	for i, tc := range qrURIs {
		t.Run(tc.name, func(t *testing.T) {
			want := canonical(t, tc.in)
			size := []int{256, 300, 512, 1024, 777}[i]
			file := filepath.Join(dir, tc.name+".png")
			r := runT(t, tc.in, "qr", "-png", file, "-size", itoa(size))
			requireOK(t, r)
			require.Empty(t, r.stdout)
			fi, err := os.Stat(file)
			require.NoError(t, err)
			require.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "the image holds the secret")
			data, err := os.ReadFile(file)
			require.NoError(t, err)
			img, err := png.Decode(bytes.NewReader(data))
			require.NoError(t, err)
			require.Equal(t, image.Rect(0, 0, size, size), img.Bounds())
			require.Equal(t, want, decodeQR(t, img))

			// -png - writes the same image to standard output.
			r = runT(t, tc.in, "qr", "-png", "-", "-size", itoa(size))
			require.Equal(t, exitOK, r.status, r.stderr)
			require.Equal(t, data, []byte(r.stdout))

			// An existing file is never overwritten.
			r = runT(t, tc.in, "qr", "-png", file)
			require.Equal(t, exitFailure, r.status)
			require.Contains(t, r.stderr, "twofa qr: creating the PNG file: ")
			require.Contains(t, r.stderr, "file exists")
			after, err := os.ReadFile(file)
			require.NoError(t, err)
			require.Equal(t, data, after)
		})
	}
	// The default size.
	file := filepath.Join(dir, "default.png")
	requireOK(t, runT(t, qrURIs[0].in, "qr", "-png", file))
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	img, err := png.Decode(bytes.NewReader(data))
	require.NoError(t, err)
	require.Equal(t, image.Rect(0, 0, defaultPNGSize, defaultPNGSize), img.Bounds())
	require.Equal(t, canonical(t, qrURIs[0].in), decodeQR(t, img))

	// A directory that does not exist: a run-time failure, no secret.
	r := runT(t, qrURIs[0].in, "qr", "-png", filepath.Join(dir, "none", "x.png"))
	require.Equal(t, exitFailure, r.status)
	require.Contains(t, r.stderr, "twofa qr: creating the PNG file: ")
	requireNoSecret(t, r, "JBSWY3DPEHPK3PXP")
}

func itoa(n int) string { return strconv.Itoa(n) }

// parseTerminalQR reads terminalQR's drawing back into modules (true:
// dark), quiet zone included: each character cell is two modules, its
// upper and lower half, drawn when light (or dark, with invert).
func parseTerminalQR(t *testing.T, text string, invert bool) [][]bool {
	t.Helper()
	require.True(t, strings.HasSuffix(text, "\n"))
	var rows [][]bool
	for line := range strings.SplitSeq(strings.TrimSuffix(text, "\n"), "\n") {
		var top, bottom []bool
		for _, c := range line {
			var tp, bt bool // drawn
			switch c {
			case '█':
				tp, bt = true, true
			case '▀':
				tp = true
			case '▄':
				bt = true
			case ' ':
			default:
				t.Fatalf("unexpected character %q", c)
			}
			top = append(top, tp == invert)
			bottom = append(bottom, bt == invert)
		}
		rows = append(rows, top, bottom)
	}
	return rows
}

func TestQRTerminal(t *testing.T) {
	for _, tc := range qrURIs {
		for _, invert := range []bool{false, true} {
			name := tc.name
			args := []string{"qr"}
			if invert {
				name += "/invert"
				args = append(args, "-invert")
			}
			t.Run(name, func(t *testing.T) {
				want := canonical(t, tc.in)
				r := runT(t, tc.in, args...)
				requireOK(t, r)
				// Read the drawing back into modules (light: false).
				rows := parseTerminalQR(t, r.stdout, invert)
				code, err := qr.Encode(want, qr.M, qr.Auto)
				require.NoError(t, err)
				n := code.Bounds().Dx()
				w := n + 2*quietZone
				require.Len(t, rows, w+1, "%d modules, a quiet zone of 4 and one light row to make the height even", n)
				for y, row := range rows {
					require.Len(t, row, w, "row %d", y)
					for x, dark := range row {
						inside := x >= quietZone && x < quietZone+n && y >= quietZone && y < quietZone+n
						if !inside {
							require.False(t, dark, "quiet zone module (%d, %d)", x, y)
							continue
						}
						c, _, _, _ := code.At(x-quietZone, y-quietZone).RGBA()
						require.Equal(t, c < 0x8000, dark, "module (%d, %d)", x-quietZone, y-quietZone)
					}
				}
				// Draw the modules as a scanner would see them, and
				// decode them back.
				const scale = 4
				img := image.NewGray(image.Rect(0, 0, w*scale, len(rows)*scale))
				for y, row := range rows {
					for x, dark := range row {
						c := color.Gray{Y: 255}
						if dark {
							c = color.Gray{}
						}
						for dy := range scale {
							for dx := range scale {
								img.SetGray(x*scale+dx, y*scale+dy, c)
							}
						}
					}
				}
				require.Equal(t, want, decodeQR(t, img))
			})
		}
	}
}

func TestQRBadInput(t *testing.T) {
	const sec = "JBSWY3DPEHPK3PXPJBSWY3DP"
	uri := "otpauth://totp/Example:alice?secret=" + sec + "&issuer=Example"
	// A valid URI too long for a QR code: an issuer and an account of 256
	// bytes, every one percent-encoded.
	long := "otpauth://totp/" + strings.Repeat("%C3%A9", 128) + ":" + strings.Repeat("%C3%A9", 128) + "?secret=" + sec
	_, err := twofa.ParseKeyURI(long)
	require.NoError(t, err)
	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"no input", "", nil, "no otpauth URI on standard input"},
		{"a secret", sec, nil, "invalid otpauth URI: scheme: not the otpauth scheme"},
		{"bad secret", "otpauth://totp/alice?secret=" + sec + "!", nil, "invalid otpauth URI: secret: invalid secret: illegal base32 character at offset 24"},
		{"no account", "otpauth://totp/Example:?secret=" + sec, nil, "invalid otpauth URI: account: missing"},
		{"fragment", uri + "#x", nil, "invalid otpauth URI: uri: has a fragment"},
		{"size small", uri, []string{"-png", "x.png", "-size", "63"}, "-size 63 outside 64 to 4096 pixels"},
		{"size large", uri, []string{"-png", "x.png", "-size", "4097"}, "-size 4097 outside 64 to 4096 pixels"},
		{"size not a number", uri, []string{"-png", "x.png", "-size", sec}, "invalid value for flag -size"},
		{"size without png", uri, []string{"-size", "100"}, "-size applies to -png only"},
		{"invert with png", uri, []string{"-png", "x.png", "-invert"}, "-invert applies to the terminal only"},
		{"two arguments", "", []string{uri, uri}, "too many arguments (2); flags go before the otpauth URI"},
		{"too long for a terminal QR code", long, nil, "does not fit in a QR code"},
		{"too long for a PNG QR code", long, []string{"-png", "x.png"}, "does not fit in a QR code"},
		{"too small for the code", "otpauth://totp/" + strings.Repeat("x", 200) + ":alice?secret=" + sec, []string{"-png", "x.png", "-size", "64"}, "64 pixels are too few"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			r := runT(t, tc.stdin, append([]string{"qr"}, tc.args...)...)
			requireUsage(t, r, "qr", tc.want, sec, sec[:16], sec[8:])
			_, err := os.Stat("x.png")
			require.ErrorIs(t, err, os.ErrNotExist, "nothing written")
		})
	}
}
