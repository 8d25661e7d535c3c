package sqlstore

import (
	"database/sql"
	"reflect"
	"strings"
	"testing"
)

// TestQueriesBuiltInNew checks that New builds every statement, those of
// the phones, challenges and browsers included, adapted to the dialect
// and prefix: no field of the Store's queries is left for a method to
// build per call, and none keeps a placeholder of Store.sql.
func TestQueriesBuiltInNew(t *testing.T) {
	for _, d := range []Dialect{SQLite, Postgres} {
		db, err := sql.Open("sqlite", ":memory:")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		s, err := New(db, d, Options{TablePrefix: "p_"}) // New connects to nothing
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		var walk func(path string, v reflect.Value)
		walk = func(path string, v reflect.Value) {
			for i := range v.NumField() {
				f, name := v.Field(i), path+v.Type().Field(i).Name
				if f.Kind() == reflect.Struct {
					walk(name+".", f)
					continue
				}
				n++
				q := f.String()
				switch {
				case q == "":
					t.Errorf("%v: %s is not built", d, name)
				case strings.Contains(q, "{{"):
					t.Errorf("%v: %s keeps a placeholder: %s", d, name, q)
				case d == SQLite && strings.Contains(q, "$"):
					t.Errorf("%v: %s keeps a PostgreSQL parameter: %s", d, name, q)
				}
			}
		}
		walk("", reflect.ValueOf(s.q))
		t.Logf("%v: %d statements", d, n)
	}
}
