// Package fuzzseed loads the module's fuzz seed corpora, kept as
// "go test fuzz v1" files in testdata/fuzz/<FuzzName> at the module root,
// for fuzz targets in packages whose own testdata Go does not look in.
// A missing or thin corpus fails the test rather than fuzzing nothing.
package fuzzseed

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Min is the least number of seed files a corpus must hold.
const Min = 8

// Add reads every file of dir/name and adds it to f as a seed. dir is the
// module's testdata/fuzz, relative to the calling package. Only string
// and []byte arguments are supported.
func Add(f *testing.F, dir, name string) {
	f.Helper()
	dir = filepath.Join(dir, name)
	entries, err := os.ReadDir(dir)
	if err != nil {
		f.Fatalf("seed corpus: %v", err)
	}
	n := 0
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		args, err := Read(filepath.Join(dir, e.Name()))
		if err != nil {
			f.Fatalf("seed %s: %v", e.Name(), err)
		}
		f.Add(args...)
		n++
	}
	if n < Min {
		f.Fatalf("seed corpus %s has %d files, want at least %d", dir, n, Min)
	}
}

// Read parses one "go test fuzz v1" file.
func Read(path string) ([]any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	if !sc.Scan() || sc.Text() != "go test fuzz v1" {
		return nil, errors.New(`missing "go test fuzz v1" header`)
	}
	var args []any
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		typ, rest, ok := strings.Cut(line, "(")
		if !ok || !strings.HasSuffix(rest, ")") {
			return nil, errors.New("bad line " + strconv.Quote(line))
		}
		s, err := strconv.Unquote(strings.TrimSuffix(rest, ")"))
		if err != nil {
			return nil, errors.New("bad literal in " + strconv.Quote(line))
		}
		switch typ {
		case "string":
			args = append(args, s)
		case "[]byte":
			args = append(args, []byte(s))
		default:
			return nil, errors.New("unsupported type " + typ)
		}
	}
	if len(args) == 0 {
		return nil, errors.New("no arguments")
	}
	return args, sc.Err()
}
