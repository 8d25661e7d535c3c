// Command server is a small web application that signs people in with a
// password and a second factor, built on twofa: sign up, sign in, turn
// on two-factor authentication by scanning a QR code, recovery codes,
// codes by text message, "trust this browser", app passwords for an API
// behind HTTP Basic auth, and the settings pages that manage them.
//
//	go run ./examples/server                    # SQLite in a temporary directory
//	go run ./examples/server -db ./demo.db      # SQLite in a file that stays (or -db DIR: DIR/demo.db)
//	go run ./examples/server -postgres 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable'
//
// Open the URL it prints (http://localhost:8080): browsers treat
// localhost as a secure origin, so the demo's __Host- cookies work
// without TLS. Serve it behind TLS anywhere else.
//
// No text message is sent: the development Sender keeps every message
// on the /outbox page, codes included - FOR LOCAL DEVELOPMENT ONLY.
//
// The keys that seal the authenticator secrets come from TWOFA_KEYS
// (see keyring.Parse; make one with go run ./cmd/twofa-keyring). When it
// is unset the server makes a keyring for this run only: secrets sealed
// under it do not open after a restart.
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/twofa-go/twofa/keyring"
	"github.com/twofa-go/twofa/sqlstore"
)

func main() {
	addr := flag.String("addr", "localhost:8080", "the address to listen on")
	dbPath := flag.String("db", "", "the SQLite database file, or a directory to keep demo.db in (default: a new temporary directory)")
	pg := flag.String("postgres", "", "a PostgreSQL DSN, instead of SQLite")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, *addr, *dbPath, *pg); err != nil {
		log.Fatal(err)
	}
}

// sqliteDSN is sqlstore's recommended DSN for a SQLite file.
func sqliteDSN(path string) string {
	return "file:" + path + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_txlock=immediate"
}

func run(ctx context.Context, out io.Writer, addr, dbPath, pg string) error {
	keys, err := loadKeyring(out)
	if err != nil {
		return err
	}
	var db *sql.DB
	dialect := sqlstore.SQLite
	switch {
	case pg != "":
		dialect = sqlstore.Postgres
		db, err = sql.Open("pgx", pg)
		fmt.Fprintln(out, "Database: PostgreSQL")
	default:
		if dbPath == "" {
			dir, err := os.MkdirTemp("", "twofa-demo-")
			if err != nil {
				return err
			}
			dbPath = filepath.Join(dir, "demo.db")
		} else if fi, err := os.Stat(dbPath); err == nil && fi.IsDir() {
			dbPath = filepath.Join(dbPath, "demo.db")
		}
		db, err = sql.Open("sqlite", sqliteDSN(dbPath))
		fmt.Fprintln(out, "Database: SQLite,", dbPath)
	}
	if err != nil {
		return err
	}
	defer db.Close()
	s, h, err := newServer(ctx, config{
		DB: db, Dialect: dialect, Keyring: keys,
		Log: log.New(os.Stderr, "server: ", log.LstdFlags),
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	go purge(ctx, s)
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	if ip := net.ParseIP(host); ip != nil && (ip.IsLoopback() || ip.IsUnspecified()) {
		host = "localhost"
	}
	fmt.Fprintf(out, "twofa demo: http://%s\n", net.JoinHostPort(host, port))
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// purge deletes expired records (lapsed enrolments, idle throttles,
// expired trusted browsers and pending sign-ins, spent text-message
// codes) every hour, as
// twofa.TwoFA.Purge asks: nothing depends on it, it keeps the store
// small.
func purge(ctx context.Context, s *server) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := s.tf.Purge(ctx); err != nil {
				s.log.Printf("purge: %v", err)
			} else {
				s.log.Printf("purge: %d expired records removed", n)
			}
		}
	}
}

// loadKeyring reads TWOFA_KEYS, or makes a keyring for this run.
func loadKeyring(out io.Writer) (*keyring.Keyring, error) {
	text := os.Getenv("TWOFA_KEYS")
	if text == "" {
		var err error
		if text, err = keyring.Generate(); err != nil {
			return nil, err
		}
		fmt.Fprintln(out, "Note: TWOFA_KEYS is not set, so this run made a keyring of its own. Authenticator apps")
		fmt.Fprintln(out, "      enrolled now stop working when the server restarts. For keys that last, run")
		fmt.Fprintln(out, "      go run ./cmd/twofa-keyring and export its output as TWOFA_KEYS.")
	}
	return keyring.Parse(text)
}
