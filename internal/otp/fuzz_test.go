package otp

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The seed corpus of FuzzParseCode is kept with the module's other fuzz
// seeds, in ../../testdata/fuzz/FuzzParseCode ("go test fuzz v1" files), and
// added explicitly: a missing or empty directory fails the test rather than
// fuzzing nothing. (Inputs that `go test -fuzz` finds failing are written to
// this package's testdata/fuzz/FuzzParseCode; move them to the shared
// directory.)
const seedDir = "../../testdata/fuzz"

// minSeeds is the least number of seed files each fuzz target must have.
const minSeeds = 8

// addSeeds reads the "go test fuzz v1" files of dir/name and adds each as a
// seed. Only string and []byte arguments are supported.
func addSeeds(f *testing.F, name string) {
	f.Helper()
	dir := filepath.Join(seedDir, name)
	entries, err := os.ReadDir(dir)
	if err != nil {
		f.Fatalf("seed corpus: %v", err)
	}
	n := 0
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		args, err := readSeed(filepath.Join(dir, e.Name()))
		if err != nil {
			f.Fatalf("seed %s: %v", e.Name(), err)
		}
		f.Add(args...)
		n++
	}
	if n < minSeeds {
		f.Fatalf("seed corpus %s has %d files, want at least %d", dir, n, minSeeds)
	}
}

func readSeed(path string) ([]any, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	sc.Buffer(nil, 1<<20)
	if !sc.Scan() || sc.Text() != "go test fuzz v1" {
		return nil, errSeed("missing \"go test fuzz v1\" header")
	}
	var args []any
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		typ, rest, ok := strings.Cut(line, "(")
		if !ok || !strings.HasSuffix(rest, ")") {
			return nil, errSeed("bad line " + strconv.Quote(line))
		}
		s, err := strconv.Unquote(strings.TrimSuffix(rest, ")"))
		if err != nil {
			return nil, errSeed("bad literal in " + strconv.Quote(line))
		}
		switch typ {
		case "string":
			args = append(args, s)
		case "[]byte":
			args = append(args, []byte(s))
		default:
			return nil, errSeed("unsupported type " + typ)
		}
	}
	if len(args) == 0 {
		return nil, errSeed("no arguments")
	}
	return args, sc.Err()
}

type errSeed string

func (e errSeed) Error() string { return string(e) }

// FuzzParseCode checks ParseCode against a plain oracle: a code is accepted
// exactly when it is at most MaxCodeInput bytes of ASCII digits, spaces and
// hyphens with the right number of digits, and its value is those digits.
func FuzzParseCode(f *testing.F) {
	addSeeds(f, "FuzzParseCode")
	f.Fuzz(func(t *testing.T, code string) {
		for d := MinDigits; d <= MaxDigits; d++ {
			v, ok := ParseCode(code, d)

			digits := strings.Map(func(r rune) rune {
				if r == ' ' || r == '-' {
					return -1
				}
				return r
			}, code)
			want := len(code) <= MaxCodeInput && len(digits) == d && strings.Trim(digits, "0123456789") == ""
			if ok != want {
				t.Fatalf("ParseCode(%q, %d) ok = %v, want %v", code, d, ok, want)
			}
			if !ok {
				if v != 0 {
					t.Fatalf("ParseCode(%q, %d) = %d on failure", code, d, v)
				}
				continue
			}
			if v >= pow10[d] {
				t.Fatalf("ParseCode(%q, %d) = %d, more than %d digits", code, d, v, d)
			}
			if got := string(AppendDigits(nil, v, d)); got != digits {
				t.Fatalf("ParseCode(%q, %d) = %d, formats as %q, want %q", code, d, v, got, digits)
			}
		}
	})
}
