package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/boombuler/barcode/qr"

	"github.com/twofa-go/twofa"
)

const qrUsage = `Usage: twofa qr [flags] [URI | -]

Draws an otpauth:// URI as a QR code for an authenticator app to scan:
on the terminal by default, or as a PNG image with -png FILE. The URI is
checked as 'twofa uri inspect' checks it, and the code holds it in the
canonical form twofa writes (every parameter, percent-encoded).

On the terminal each character cell is two modules, drawn with Unicode
half blocks inside the 4-module quiet zone scanners need. By default the
light modules are drawn (a terminal with light text on a dark
background); use -invert on a terminal with dark text on a light one.
Make the font small enough for the whole code to fit.

The code holds the secret: show it only to the person enrolling, and
clear the screen after. A PNG file is created with mode 0600 and never
overwrites an existing file; -png - writes the image to standard output.

With no URI, or URI -, the first line of standard input is read; with
-env NAME, the environment variable NAME. Prefer either to an argument: a
command line is visible to every user of the machine (ps,
/proc/PID/cmdline) and lands in the shell's history.

  twofa uri -issuer Example -account alice -generate | twofa qr
  twofa qr -png alice.png -size 512 < uri.txt
`

// defaultPNGSize is the default -size: 512 pixels gives a typical key's
// code (41 to 49 modules with its quiet zone) 10 or more pixels per
// module, which phone cameras read easily off a screen or paper.
const defaultPNGSize = 512

// runQR draws a URI's QR code.
func runQR(e *env, args []string) error {
	fs := newFlags("qr")
	pngFile := fs.String("png", "", "write a PNG image to `FILE` (- for standard output) instead of drawing on the terminal")
	size := fs.Int("size", defaultPNGSize, fmt.Sprintf("-png: the image's width and height `N` in pixels, %d to %d", twofa.MinPNGSize, twofa.MaxPNGSize))
	invert := fs.Bool("invert", false, "terminal: draw the dark modules, for dark text on a light background")
	envName := fs.String("env", "", "read the URI from environment variable `NAME`")
	if err := parse(e, fs, qrUsage, args); err != nil {
		return err
	}
	set := setFlags(fs)
	if *pngFile == "" && set["size"] {
		return usagef("-size applies to -png only")
	}
	if *pngFile != "" && set["invert"] {
		return usagef("-invert applies to the terminal only, not to -png")
	}
	if *pngFile != "" && (*size < twofa.MinPNGSize || *size > twofa.MaxPNGSize) {
		return usagef("-size %d outside %d to %d pixels", *size, twofa.MinPNGSize, twofa.MaxPNGSize)
	}
	in, err := input(e, fs.Args(), *envName, "otpauth URI")
	if err != nil {
		return err
	}
	k, err := parseURI(in)
	if err != nil {
		return err
	}
	if *pngFile != "" {
		return writePNG(e, k, *pngFile, *size)
	}
	uri, err := k.URI()
	if err != nil {
		return &usageError{uriMessage(err)}
	}
	text, err := terminalQR(uri, *invert)
	if err != nil {
		return err
	}
	return write(e, text)
}

func writePNG(e *env, k twofa.Key, name string, size int) error {
	data, err := k.PNG(size)
	if errors.Is(err, twofa.ErrQRCode) || errors.Is(err, twofa.ErrInvalidURI) {
		return &usageError{uriMessage(err)}
	}
	if err != nil {
		return err
	}
	if name == "-" {
		if _, err := e.stdout.Write(data); err != nil {
			return fmt.Errorf("writing standard output: %w", err)
		}
		return nil
	}
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("creating the PNG file: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(name)
		return fmt.Errorf("writing the PNG file: %w", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(name)
		return fmt.Errorf("writing the PNG file: %w", err)
	}
	return nil
}

// quietZone is the light margin around a QR code, in modules, that
// ISO/IEC 18004 requires and scanners need to find the symbol.
const quietZone = 4

// terminalQR draws uri as a QR code (error-correction level M, as
// Key.PNG draws it) in Unicode half blocks, two modules a character cell,
// with a quiet zone of quietZone modules on every side (one more at the
// bottom when the height is odd). It draws the light modules, or with
// invert the dark ones.
func terminalQR(uri string, invert bool) (string, error) {
	code, err := qr.Encode(uri, qr.M, qr.Auto)
	if err != nil {
		// The encoder's error may quote its content, which holds the
		// secret.
		return "", &usageError{fmt.Sprintf("the URI (%d bytes) does not fit in a QR code", len(uri))}
	}
	b := code.Bounds()
	n := b.Dx()
	dark := func(x, y int) bool { // x, y in modules, quiet zone included
		x, y = x-quietZone, y-quietZone
		if x < 0 || y < 0 || x >= n || y >= n {
			return false
		}
		r, g, bl, _ := code.At(b.Min.X+x, b.Min.Y+y).RGBA()
		return r+g+bl < 3*0x8000
	}
	w := n + 2*quietZone
	h := w + w%2
	drawn := func(x, y int) bool { return dark(x, y) == invert }
	var s strings.Builder
	s.Grow(h / 2 * (w*3 + 1))
	for y := 0; y < h; y += 2 {
		for x := range w {
			switch top, bottom := drawn(x, y), drawn(x, y+1); {
			case top && bottom:
				s.WriteString("█")
			case top:
				s.WriteString("▀")
			case bottom:
				s.WriteString("▄")
			default:
				s.WriteByte(' ')
			}
		}
		s.WriteByte('\n')
	}
	return s.String(), nil
}
